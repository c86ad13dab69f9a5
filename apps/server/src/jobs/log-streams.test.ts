import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogPage } from '@tc/contracts';
import { openDatabase, type Db } from '../db/database.js';
import { LogRepository } from '../engine/log-repository.js';
import { LogSink } from '../engine/log-sink.js';
import { JobRepository } from './job-repository.js';
import { LogStreams, TooManyStreamsError } from './log-streams.js';

const dbs: Db[] = [];
const streams: Readable[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.destroy();
  for (const db of dbs.splice(0)) db.close();
});

function setup(opts: { perUser?: number; heartbeatMs?: number } = {}) {
  const db = openDatabase(':memory:');
  dbs.push(db);
  const jobs = new JobRepository(db);
  const job = jobs.createWithNextVersion({
    name: 'followed',
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
  let reads = 0;
  const counted = {
    onAppend: logs.onAppend.bind(logs),
    pageWithin: (...a: Parameters<LogRepository['pageWithin']>) => {
      reads += 1;
      return logs.pageWithin(...a);
    },
  };
  const live = new LogStreams({ logs: counted, jobs, ...opts });
  const open = (after = 0, user = 1) => {
    const s = live.open(user, job.id, 0, after);
    streams.push(s);
    return s;
  };
  return { db, jobs, job, logs, live, open, reads: () => reads, sink: () => new LogSink(logs, job.id, 0, { flushMs: 60_000 }) };
}

interface Parsed {
  event: string;
  id: string | null;
  page: LogPage | null;
  comment: boolean;
}

/** Reads a stream's blocks as they come, parsed as an EventSource would. */
function reader(stream: Readable) {
  const blocks: Parsed[] = [];
  let buffer = '';
  let ended = false;
  stream.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      let event = 'message';
      let id: string | null = null;
      let data: string | null = null;
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        if (line.startsWith('id: ')) id = line.slice(4);
        if (line.startsWith('data: ')) data = line.slice(6);
      }
      blocks.push({ event, id, page: data ? (JSON.parse(data) as LogPage) : null, comment: block.startsWith(':') });
    }
  });
  stream.on('end', () => (ended = true));
  const events = () => blocks.filter((b) => b.page);
  return {
    blocks,
    events,
    texts: () => events().flatMap((e) => e.page!.lines.map((l) => l.text)),
    ended: () => ended,
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('LogStreams', () => {
  it('sends what is stored at once, pushes lines as they are stored, with the cursor as id, then ends with the job', async () => {
    const { jobs, job, open, sink } = setup();
    const s = sink();
    s.add('stdout', 'one');
    s.add('stdout', 'two');
    s.flush();
    const r = reader(open());
    await until('the stored lines', () => r.texts().length === 2);
    expect(r.events()[0]).toMatchObject({ event: 'message', id: '2', page: { nextCursor: '2', complete: false } });

    s.add('stderr', 'three');
    s.flush();
    await until('the pushed line', () => r.texts().length === 3);
    expect(r.events().at(-1)).toMatchObject({ id: '3', page: { lines: [{ seq: 3, stream: 'stderr', text: 'three' }] } });

    s.add('system', 'four');
    s.flush();
    expect(jobs.transition(job.id, 'Queuing', 'Stopped')).toBe(true);
    await until('the end', () => r.ended());
    expect(r.texts()).toEqual(['one', 'two', 'three', 'four']);
    expect(r.events().at(-1)).toMatchObject({ event: 'end', id: '4', page: { lines: [], nextCursor: '4', complete: true } });
  });

  it('starts after the cursor, and splits a backlog into events of bounded size', async () => {
    const { jobs, job, open, sink } = setup();
    const s = sink();
    for (let i = 1; i <= 2500; i++) s.add('stdout', `line ${i}`);
    s.flush();
    jobs.transition(job.id, 'Queuing', 'Stopped');
    const r = reader(open(500));
    await until('the end', () => r.ended());
    const pages = r.events().filter((e) => e.event === 'message');
    expect(pages.length).toBeGreaterThan(1);
    expect(Math.max(...pages.map((p) => p.page!.lines.length))).toBeLessThanOrEqual(1000);
    expect(r.texts()).toEqual(Array.from({ length: 2000 }, (_, i) => `line ${i + 501}`));
    for (const p of pages) expect(p.id).toBe(String(p.page!.lines.at(-1)!.seq));
  });

  it('stops reading while the client does not take what it has, and carries on when it does', async () => {
    const { jobs, job, open, sink, reads } = setup();
    const s = sink();
    for (let i = 1; i <= 100_000; i++) s.add('stdout', `a line of some length, number ${i}`);
    s.flush();
    jobs.transition(job.id, 'Queuing', 'Stopped');
    const stream = open();
    // Nobody reads: the stream fills its buffer and then waits.
    await new Promise((r) => setTimeout(r, 50));
    const held = stream.readableLength;
    const readsWhileStalled = reads();
    expect(held).toBeLessThan(2 * 1024 * 1024);
    expect(readsWhileStalled).toBeLessThan(10);
    await new Promise((r) => setTimeout(r, 50));
    expect(reads()).toBe(readsWhileStalled);

    const r = reader(stream);
    await until('the end', () => r.ended());
    expect(r.texts()).toHaveLength(100_000);
    expect(r.texts().at(-1)).toBe('a line of some length, number 100000');
  });

  it('caps the streams per user, and a closed stream frees its place', async () => {
    const { open, live } = setup({ perUser: 2 });
    const a = open(0, 1);
    open(0, 1);
    expect(() => open(0, 1)).toThrow(TooManyStreamsError);
    // Another user has places of their own.
    open(0, 2);
    a.destroy();
    await until('the place to come free', () => live.size === 2);
    expect(() => open(0, 1)).not.toThrow();
  });

  it('sends a heartbeat comment while quiet, and ends open streams without `end` when closing', async () => {
    const { open, live } = setup({ heartbeatMs: 10 });
    const r = reader(open());
    await until('a heartbeat', () => r.blocks.some((b) => b.comment));
    expect(r.blocks[0]).toMatchObject({ page: null, comment: false });
    live.closeAll();
    await until('the stream to end', () => r.ended());
    expect(r.events().some((e) => e.event === 'end')).toBe(false);
    expect(live.size).toBe(0);
  });
});
