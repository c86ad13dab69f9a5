import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../db/database.js';
import { JobRepository } from '../jobs/job-repository.js';
import { LogRepository } from './log-repository.js';
import { LogSink } from './log-sink.js';

function setup() {
  const db = openDatabase(':memory:');
  const jobs = new JobRepository(db);
  const job = jobs.createWithNextVersion({
    name: 'sink',
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
  const stored = () => logs.page(job.id, 0, 0, 10_000).map((l) => l.text);
  return { logs, job, stored };
}

afterEach(() => vi.useRealTimers());

describe('LogSink', () => {
  it('writes the first line after a quiet spell at once, and batches the lines that follow it', () => {
    vi.useFakeTimers();
    const { logs, job, stored } = setup();
    const sink = new LogSink(logs, job.id, 0, { maxBatch: 1000, flushMs: 100 });
    sink.add('stdout', 'first');
    expect(stored()).toEqual(['first']);
    sink.add('stdout', 'second');
    sink.add('stdout', 'third');
    expect(stored()).toEqual(['first']);
    vi.advanceTimersByTime(100);
    expect(stored()).toEqual(['first', 'second', 'third']);
    // Quiet again: the next line goes straight in.
    vi.advanceTimersByTime(500);
    sink.add('stderr', 'later');
    expect(stored()).toEqual(['first', 'second', 'third', 'later']);
  });

  it('writes a full batch without waiting, with sequence numbers that continue', () => {
    vi.useFakeTimers();
    const { logs, job, stored } = setup();
    const sink = new LogSink(logs, job.id, 0, { maxBatch: 3, flushMs: 100 });
    for (const t of ['a', 'b', 'c', 'd']) sink.add('stdout', t);
    expect(stored()).toEqual(['a', 'b', 'c', 'd']);
    sink.add('stdout', 'e');
    vi.advanceTimersByTime(100);
    expect(logs.page(job.id, 0, 0, 10).map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
  });
});
