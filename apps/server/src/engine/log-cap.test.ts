import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase, type Db } from '../db/database.js';
import { JobRepository } from '../jobs/job-repository.js';
import { LogRepository } from './log-repository.js';
import { formatBytes, LINE_OVERHEAD, LogSink, type LogSinkOptions } from './log-sink.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A job over a real SQLite file (or memory), and its node 0's log as the API pages it. */
function setup(file = ':memory:') {
  const db = openDatabase(file);
  dbs.push(db);
  const jobs = new JobRepository(db);
  const job = jobs.createWithNextVersion({
    name: 'capped',
    description: null,
    spec: {} as never,
    poolId: 'public',
    flavorId: 'f',
    nodeCount: 1,
    hostnames: () => ['h'],
    createdAt: new Date().toISOString(),
    ownerId: 1,
  });
  const logs = new LogRepository(db);
  const stored = () => logs.page(job.id, 0, 0, 1_000_000);
  const sink = (opts: LogSinkOptions) => new LogSink(logs, job.id, 0, { flushMs: 60_000, ...opts });
  return { db, jobs, job, logs, stored, sink };
}

const base = Date.parse('2026-12-01T10:00:00.000Z');
/** Line i at its own millisecond, as a busy job's lines mostly are. */
const at = (i: number) => new Date(base + i);
const text = (i: number) => `line ${i}`;
const cost = (lines: { text: string }[]) => lines.reduce((n, l) => n + Buffer.byteLength(l.text) + LINE_OVERHEAD, 0);

function feed(sink: LogSink, from: number, to: number): void {
  for (let i = from; i <= to; i++) sink.add(i % 7 === 0 ? 'stderr' : 'stdout', text(i), at(i));
  sink.flush();
}

describe('log cap', () => {
  it('keeps the first and the latest lines, with a marker counting what was dropped between', () => {
    const { stored, sink } = setup();
    const s = sink({ maxBytes: 4000 });
    feed(s, 1, 5000);
    const lines = stored();
    const markers = lines.filter((l) => l.stream === 'system');
    expect(markers).toHaveLength(1);
    const m = lines.findIndex((l) => l.stream === 'system');
    const head = lines.slice(0, m);
    const tail = lines.slice(m + 1);
    // The head is the very first lines, the tail ends with the very last one.
    expect(head.map((l) => l.text)).toEqual(head.map((_, i) => text(i + 1)));
    expect(tail.at(-1)!.text).toBe(text(5000));
    expect(tail.map((l) => l.text)).toEqual(tail.map((_, i) => text(5000 - tail.length + 1 + i)));
    // Seqs are the lines' own numbers: the marker stands in the last dropped line's place.
    expect(head.map((l) => l.seq)).toEqual(head.map((_, i) => i + 1));
    expect(tail.map((l) => l.seq)).toEqual(tail.map((l) => Number(l.text.split(' ')[1])));
    expect(markers[0]!.seq).toBe(tail[0]!.seq - 1);
    const dropped = 5000 - head.length - tail.length;
    let droppedBytes = 0;
    for (let i = head.length + 1; i <= 5000 - tail.length; i++) droppedBytes += text(i).length + 1;
    expect(markers[0]!.text).toBe(
      `[… ${dropped.toLocaleString('en-US')} lines (${formatBytes(droppedBytes)}) dropped: the log exceeded the limit of 3.9 KiB per node; the first and the latest lines are kept …]`,
    );
    expect(cost(head)).toBeLessThanOrEqual(2000);
    expect(cost(tail)).toBeLessThanOrEqual(2000);
    // Each half is filled to within a line of its budget.
    expect(cost(head)).toBeGreaterThan(2000 - 60);
    expect(cost(tail)).toBeGreaterThan(2000 - 60);
  });

  it('gives the same log whether the lines came in one batch, many, or across a console restart', () => {
    const once = setup();
    feed(once.sink({ maxBytes: 4000, maxBatch: 100_000 }), 1, 3000);
    const split = setup();
    let drops = 0;
    const onDropStart = () => (drops += 1);
    feed(split.sink({ maxBytes: 4000, maxBatch: 7, onDropStart }), 1, 30);
    feed(split.sink({ maxBytes: 4000, maxBatch: 7, onDropStart }), 31, 1000);
    // A new process: everything it knows comes from the database.
    feed(split.sink({ maxBytes: 4000, maxBatch: 13, onDropStart }), 1001, 3000);
    expect(split.stored()).toEqual(once.stored());
    expect(drops).toBe(1);
  });

  it('announces the first drop once, and a cursor taken before a cut still pages on', () => {
    const { stored, sink, logs, job } = setup();
    const messages: string[] = [];
    const s = sink({ maxBytes: 4000, maxBatch: 10, onDropStart: (m) => messages.push(m) });
    feed(s, 1, 60);
    const cursor = stored().at(-1)!.seq;
    feed(s, 61, 2000);
    expect(messages).toEqual([
      'the log of node 0 exceeded the limit of 3.9 KiB: its first 2.0 KiB and latest 2.0 KiB are kept, the lines between are dropped',
    ]);
    // The lines after the cursor were dropped meanwhile: the reader gets the marker and the tail.
    const page = logs.page(job.id, 0, cursor, 1000);
    expect(page[0]!.stream).toBe('system');
    expect(page.at(-1)!.text).toBe(text(2000));
    expect(page.map((l) => l.seq)).toEqual([...page.map((l) => l.seq)].sort((a, b) => a - b));
  });

  it('keeps every line of the newest stamp, so a restarted console resumes without repeating lines', () => {
    const { stored, sink, logs, job } = setup();
    const s = sink({ maxBytes: 4000 });
    feed(s, 1, 200);
    // 100 lines in one millisecond, more than the tail holds.
    const same = new Date(base + 10_000);
    for (let i = 0; i < 100; i++) s.add('stdout', `burst ${i}`, same);
    s.flush();
    const texts = stored().map((l) => l.text);
    for (let i = 0; i < 100; i++) expect(texts).toContain(`burst ${i}`);
    expect(logs.resumePoint(job.id, 0)).toEqual({ at: same.toISOString(), count: 100 });
    // The next line lets them go.
    s.add('stdout', 'after', new Date(base + 10_001));
    s.flush();
    expect(stored().at(-1)!.text).toBe('after');
    expect(cost(stored().filter((l) => l.stream !== 'system' && l.seq > 200))).toBeLessThanOrEqual(2000);
  });

  it('cuts a line longer than an eighth of the limit', () => {
    const { stored, sink } = setup();
    sink({ maxBytes: 8000 }).add('stdout', 'é'.repeat(5000), at(1));
    const [l] = stored();
    expect(l!.text).toBe(`${'é'.repeat(500)} [… line cut at 1000 bytes]`);
  });

  it('stops the database file from growing once the log is at its limit', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-logcap-'));
    dirs.push(dir);
    const file = path.join(dir, 'console.db');
    const { sink, db } = setup(file);
    const s = sink({ maxBytes: 256 * 1024 });
    // 20 MB of output, 80 times the limit.
    const pad = 'x'.repeat(90);
    for (let i = 1; i <= 200_000; i++) s.add('stdout', `${i} ${pad}`, at(i));
    s.flush();
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
  });
});

describe('LOG_MAX_BYTES_PER_NODE', () => {
  it('defaults to 64 MiB and refuses what is not a byte count of at least 64 KiB, naming the variable', () => {
    expect(loadConfig({}).logMaxBytesPerNode).toBe(64 * 1024 * 1024);
    expect(loadConfig({ LOG_MAX_BYTES_PER_NODE: '262144' }).logMaxBytesPerNode).toBe(262144);
    for (const bad of ['1000', '64MiB', '100000.5', '-1']) {
      expect(() => loadConfig({ LOG_MAX_BYTES_PER_NODE: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ LOG_MAX_BYTES_PER_NODE: bad })).toThrow(/LOG_MAX_BYTES_PER_NODE/);
    }
  });
});
