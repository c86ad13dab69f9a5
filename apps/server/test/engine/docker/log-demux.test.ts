import { describe, expect, it } from 'vitest';
import type { LogLineEvent } from '../../../src/engine/container-engine.js';
import { LogDemuxer, MAX_LINE_BYTES } from '../../../src/engine/docker/log-demux.js';

function frame(type: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

const T1 = '2026-11-28T16:42:25.500469773Z';
const T2 = '2026-11-28T16:42:26.000000001Z';
const T3 = '2026-11-28T16:42:26.999999999+08:00';

function run(chunks: Buffer[], timestamps = true): { lines: LogLineEvent[]; errors: string[] } {
  const lines: LogLineEvent[] = [];
  const d = new LogDemuxer(
    (l) => lines.push(l),
    timestamps,
    () => new Date(0),
  );
  for (const c of chunks) d.push(c);
  d.end();
  return { lines, errors: d.engineErrors };
}

const simple = (ls: LogLineEvent[]): string[] => ls.map((l) => `${l.stream}:${l.text}`);

describe('LogDemuxer', () => {
  const body = Buffer.concat([
    frame(1, `${T1} out one\n`),
    frame(2, `${T1} err one\n`),
    frame(1, `${T2} out two\n`),
    frame(2, `${T3} no newline at the end`),
  ]);

  it('separates stdout from stderr, strips and parses the stamps, flushes the last line', () => {
    const { lines } = run([body]);
    expect(simple(lines)).toEqual(['stdout:out one', 'stderr:err one', 'stdout:out two', 'stderr:no newline at the end']);
    expect(lines.map((l) => l.at.toISOString())).toEqual([
      '2026-11-28T16:42:25.500Z',
      '2026-11-28T16:42:25.500Z',
      '2026-11-28T16:42:26.000Z',
      '2026-11-28T08:42:26.999Z',
    ]);
  });

  it('gives the same lines however the body is cut into chunks', () => {
    const whole = simple(run([body]).lines);
    for (let cut = 1; cut < body.length; cut++) {
      expect(simple(run([body.subarray(0, cut), body.subarray(cut)]).lines), `cut at ${cut}`).toEqual(whole);
    }
    const bytes = [...body].map((b) => Buffer.from([b]));
    expect(simple(run(bytes).lines)).toEqual(whole);
  });

  it('joins a long line the engine cut into several stamped messages, keeping the first stamp', () => {
    const { lines } = run([frame(1, `${T1} aaaa`), frame(2, `${T2} interleaved\n`), frame(1, `${T2} bbbb`), frame(1, `${T3} cccc\n`)]);
    expect(simple(lines)).toEqual(['stderr:interleaved', 'stdout:aaaabbbbcccc']);
    expect(lines[1]!.at.toISOString()).toBe('2026-11-28T16:42:25.500Z');
  });

  it('keeps a UTF-8 character whole when a message boundary cuts through it', () => {
    const text = Buffer.from('xé€😀\n');
    const { lines } = run([
      frame(1, Buffer.concat([Buffer.from(`${T1} `), text.subarray(0, 2)])),
      frame(1, Buffer.concat([Buffer.from(`${T2} `), text.subarray(2)])),
    ]);
    expect(simple(lines)).toEqual(['stdout:xé€😀']);
  });

  it('splits a frame holding several lines and stamps them all with its stamp; only a frame start is a stamp', () => {
    const { lines } = run([frame(1, `${T1} one\n${T2} two\n\nfour`)]);
    expect(simple(lines)).toEqual(['stdout:one', `stdout:${T2} two`, 'stdout:', 'stdout:four']);
    expect(new Set(lines.map((l) => l.at.toISOString()))).toEqual(new Set(['2026-11-28T16:42:25.500Z']));
  });

  it('keeps a line whose start only looks like a stamp, and lines without timestamps', () => {
    expect(simple(run([frame(1, 'not-a-stamp hello\n')]).lines)).toEqual(['stdout:not-a-stamp hello']);
    const plain = run([frame(1, `${T1} kept as text\n`)], false).lines;
    expect(simple(plain)).toEqual([`stdout:${T1} kept as text`]);
    expect(plain[0]!.at.getTime()).toBe(0);
  });

  it('reports the engine system-error stream instead of passing it off as output', () => {
    const { lines, errors } = run([frame(1, `${T1} a\n`), frame(3, 'Error grabbing logs: log file is corrupt\n')]);
    expect(simple(lines)).toEqual(['stdout:a']);
    expect(errors).toEqual(['Error grabbing logs: log file is corrupt']);
  });

  it('flushes unterminated lines of both streams oldest first', () => {
    const { lines } = run([frame(2, `${T1} err tail`), frame(1, `${T2} out tail`)]);
    expect(simple(lines)).toEqual(['stderr:err tail', 'stdout:out tail']);
  });

  it('keeps what arrived of a frame the connection cut short', () => {
    const f = frame(1, `${T1} complete\n`);
    const cut = frame(1, `${T2} partial line that was cut`);
    const { lines } = run([f, cut.subarray(0, cut.length - 4)]);
    expect(simple(lines)).toEqual(['stdout:complete', 'stdout:partial line that was']);
  });

  it('holds at most 1 MiB of a line without newline, skips and counts the rest, and keeps it one line', () => {
    // 20 MiB in 16 KiB messages, as the engine cuts a long line; a 2-byte character straddles the 1 MiB mark.
    const piece = `a${'é'.repeat(8191)}`;
    const frames = Array.from({ length: 1280 }, () => frame(1, `${T1} ${piece}`));
    const { lines } = run([...frames, frame(1, `${T2} end\n`), frame(1, `${T2} next\n`)]);
    expect(lines).toHaveLength(2);
    const total = 1280 * Buffer.byteLength(piece) + 3;
    const note = ` [… line cut at 1 MiB of ${total.toLocaleString('en-US')} bytes]`;
    expect(lines[0]!.text.endsWith(note)).toBe(true);
    const kept = lines[0]!.text.slice(0, -note.length);
    expect(Buffer.byteLength(kept)).toBe(MAX_LINE_BYTES - 1);
    expect(kept).toBe(piece.repeat(65).slice(0, kept.length));
    expect(lines[0]!.at.toISOString()).toBe('2026-11-28T16:42:25.500Z');
    expect(lines[1]!.text).toBe('next');
  });
});
