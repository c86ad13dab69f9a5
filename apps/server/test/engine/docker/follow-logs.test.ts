import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ContainerGoneError, type LogLineEvent } from '../../../src/engine/container-engine.js';
import { DockerEngine } from '../../../src/engine/docker/docker-engine.js';

/**
 * followLogs' recovery paths, against a stand-in for dockerode: a broken connection or a follow
 * that ends early cannot be provoked on demand from a real engine.
 */

function frame(type: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** A stamp `ms` milliseconds and `ns` nanoseconds after 2026-11-28T16:42:25Z. */
const S = (ms: number, ns = 0): string => {
  const base = Date.UTC(2026, 10, 28, 16, 42, 25) + ms;
  const iso = new Date(base).toISOString().slice(0, 19);
  const frac = String((base % 1000) * 1e6 + ns).padStart(9, '0');
  return `${iso}.${frac}Z`;
};

function stampNs(stamp: string): bigint {
  const [sec, frac] = stamp.replace('Z', '').split('.') as [string, string];
  return BigInt(Date.parse(`${sec}Z`)) * 1_000_000n + BigInt(frac);
}

function sinceNs(since: string): bigint {
  const [sec, frac = '0'] = since.split('.') as [string, string?];
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

interface Entry {
  type: 1 | 2;
  stamp: string;
  text: string;
}

/** What one request gets: all of the matching log, its first frames, or a cut-off stream. */
type Reply = { frames?: number; breakAtByte?: number; hang?: boolean } | { status: number; message: string };

/**
 * A container whose log file is `file` (in file order, which need not be time order). Each
 * logs() request answers, like the engine, with the entries stamped at or after `since`, in
 * file order, shaped by the next reply in the plan.
 */
class StubContainer {
  readonly requests: Array<string | undefined> = [];
  constructor(
    private readonly file: Entry[],
    private readonly plan: Reply[],
    private readonly running: boolean[],
  ) {}

  readonly follows: boolean[] = [];

  async logs(opts: { since?: string; follow?: boolean }): Promise<Readable | Buffer> {
    this.requests.push(opts.since);
    this.follows.push(opts.follow === true);
    const r = this.plan.shift() ?? {};
    if ('status' in r) {
      throw Object.assign(new Error(`(HTTP code ${r.status}) x - ${r.message}`), { statusCode: r.status, json: { message: r.message } });
    }
    const from = opts.since === undefined ? -1n : sinceNs(opts.since);
    const entries = this.file.filter((e) => stampNs(e.stamp) >= from).slice(0, r.frames);
    let bytes = Buffer.concat(entries.map((e) => frame(e.type, `${e.stamp} ${e.text}`)));
    const cut = r.breakAtByte !== undefined;
    if (cut) bytes = bytes.subarray(0, r.breakAtByte);
    // Without follow the engine answers one buffer (multiplex headers and all).
    if (!opts.follow) return bytes;
    // Small chunks, so frames arrive split across them.
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    return new Readable({
      read() {
        const next = chunks.shift();
        if (next) this.push(next);
        else if ('hang' in r && r.hang)
          return; // the follow stays open, as the engine's sometimes does after an exit
        else if (cut) this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
        else this.push(null);
      },
    });
  }

  async inspect(): Promise<{ State: { Running: boolean } }> {
    return { State: { Running: this.running.shift() ?? false } };
  }
}

function engineWith(c: StubContainer): DockerEngine {
  const docker = { getContainer: () => c } as unknown as Dockerode;
  return new DockerEngine({ docker });
}

async function follow(c: StubContainer, since?: Date): Promise<string[]> {
  const lines: LogLineEvent[] = [];
  await engineWith(c).followLogs('x', (l) => lines.push(l), since);
  return lines.map((l) => `${l.stream}:${l.text}`);
}

const out = (stamp: string, text: string): Entry => ({ type: 1, stamp, text });
const err = (stamp: string, text: string): Entry => ({ type: 2, stamp, text });

describe('followLogs recovery', () => {
  it('asks once more after the container stopped and delivers the line the follow missed', async () => {
    const c = new StubContainer([out(S(1), 'a\n'), err(S(2), 'b\n'), out(S(3), 'no newline')], [{ frames: 2 }, {}], [false]);
    expect(await follow(c)).toEqual(['stdout:a', 'stderr:b', 'stdout:no newline']);
    expect(c.requests).toEqual([undefined, '1795884144.002000000']);
  });

  it('catches a message written after the last one seen but stamped before it', async () => {
    // stdout and stderr are stamped in separate goroutines, so the file is not in time order.
    const file = [out(S(10), 'one\n'), err(S(12), 'two\n'), out(S(11), 'three\n'), err(S(13), 'four\n')];
    const c = new StubContainer(file, [{ frames: 2 }, {}], [false]);
    expect(await follow(c)).toEqual(['stdout:one', 'stderr:two', 'stdout:three', 'stderr:four']);
  });

  it('follows again when the connection breaks while the container runs, mid-frame and mid-line', async () => {
    const file = [
      out(S(5, 7), 'one\n'),
      err(S(5, 7), 'two\n'), // the same stamp to the nanosecond
      out(S(6), 'long-'), // a long line's first piece; the connection drops inside the next frame
      out(S(7), 'line\n'),
      out(S(2000), 'much later\n'),
      err(S(2001), 'three\n'),
    ];
    const upToCut = Buffer.concat(file.slice(0, 3).map((e) => frame(e.type, `${e.stamp} ${e.text}`))).length + 12;
    const c = new StubContainer(file, [{ breakAtByte: upToCut }, { frames: 5 }, {}], [true, false]);
    expect(await follow(c)).toEqual(['stdout:one', 'stderr:two', 'stdout:long-line', 'stdout:much later', 'stderr:three']);
    expect(c.requests).toHaveLength(3);
  });

  it('never goes back before the caller since, given to the millisecond', async () => {
    const file = [out(S(100), 'old\n'), out(S(200), 'from here\n'), err(S(300), 'last')];
    const c = new StubContainer(file, [{ frames: 1 }, {}], [false]);
    const since = new Date(Date.UTC(2026, 10, 28, 16, 42, 25) + 200);
    expect(await follow(c, since)).toEqual(['stdout:from here', 'stderr:last']);
    expect(c.requests).toEqual(['1795884145.200000000', '1795884145.200000000']);
  });

  it('starts again from the caller since when nothing arrived yet', async () => {
    const c = new StubContainer([out(S(900), 'late\n')], [{ frames: 0 }, {}], [false]);
    expect(await follow(c, new Date(Date.UTC(2026, 10, 28, 16, 42, 25) + 123))).toEqual(['stdout:late']);
    expect(c.requests).toEqual(['1795884145.123000000', '1795884145.123000000']);
  });

  it('gives up with the cause when the stream keeps breaking while the container runs', async () => {
    const plan: Reply[] = Array.from({ length: 10 }, () => ({ breakAtByte: 0 }));
    const c = new StubContainer(
      [],
      plan,
      Array.from({ length: 10 }, () => true),
    );
    await expect(follow(c)).rejects.toThrow(/^the log stream broke off: aborted/);
  }, 10_000);

  it('fails at once when the engine refuses the request', async () => {
    const c = new StubContainer([], [{ status: 501, message: 'configured logging driver does not support reading' }], []);
    await expect(follow(c)).rejects.toThrow(/^configured logging driver does not support reading$/);
  });

  it('says the container is gone when the engine no longer has it, or is removing it', async () => {
    await expect(follow(new StubContainer([], [{ status: 404, message: 'No such container: x' }], []))).rejects.toBeInstanceOf(
      ContainerGoneError,
    );
    const removing = { status: 409, message: 'can not get logs from container which is dead or marked for removal' };
    await expect(follow(new StubContainer([], [removing], []))).rejects.toBeInstanceOf(ContainerGoneError);
  });

  it('reads the rest once without follow when told to drain a follow that does not end', async () => {
    const c = new StubContainer([out(S(1), 'a\n'), out(S(2), 'b\n'), out(S(3), 'c\n')], [{ frames: 1, hang: true }, {}], []);
    const drain = new AbortController();
    const lines: string[] = [];
    const following = engineWith(c).followLogs('x', (l) => lines.push(l.text), undefined, drain.signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual(['a']);
    drain.abort();
    await following;
    expect(lines).toEqual(['a', 'b', 'c']);
    expect(c.follows).toEqual([true, false]);
  });

  it('ends with the caller error when onLine throws, without asking again', async () => {
    const c = new StubContainer([out(S(1), 'a\n')], [{}, {}], [false]);
    const boom = new Error('sink full');
    await expect(
      engineWith(c).followLogs('x', () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(c.requests).toHaveLength(1);
  });
});
