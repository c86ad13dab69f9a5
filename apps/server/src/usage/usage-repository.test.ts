import { describe, expect, it } from 'vitest';
import { JobRepository } from '../jobs/job-repository.js';
import { tempDatabase } from '../../test/support/temp-database.js';
import { UsageRepository, type StoredSample } from './usage-repository.js';

function setup(max: number) {
  const db = tempDatabase();
  const jobs = new JobRepository(db);
  const job = jobs.createWithNextVersion({
    name: 'usage',
    description: null,
    spec: {} as never,
    poolId: 'public',
    flavorId: 'f',
    nodeCount: 2,
    hostnames: () => ['h0', 'h1'],
    createdAt: new Date().toISOString(),
    ownerId: 1,
  });
  return { db, jobs, job, usage: new UsageRepository(db, max) };
}

const T0 = Date.UTC(2026, 0, 1);
function sample(sec: number): StoredSample {
  return {
    at: new Date(T0 + sec * 1000),
    cpuPercent: sec,
    memoryBytes: 1000 + sec,
    memoryLimitBytes: 4096,
    netRxBytes: sec * 10,
    netTxBytes: sec * 5,
    blkReadBytes: 0,
    blkWriteBytes: sec,
  };
}
const seconds = (s: StoredSample[]) => s.map((x) => (x.at.getTime() - T0) / 1000);

describe('UsageRepository', () => {
  it('keeps every sample while a node has fewer than the limit, round-tripping each field', () => {
    const { job, usage } = setup(8);
    for (let s = 0; s < 8; s++) expect(usage.add(job.id, 0, sample(s))).toBe(true);
    usage.add(job.id, 1, { ...sample(3), gpuPercent: 50, gpuMemoryBytes: 7 });
    const byNode = usage.forJob(job.id);
    expect(seconds(byNode.get(0)!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(byNode.get(0)![5]).toEqual(sample(5));
    expect(byNode.get(1)).toEqual([{ ...sample(3), gpuPercent: 50, gpuMemoryBytes: 7 }]);
  });

  it('thins a long run to a bounded, evenly spaced series that still spans the whole run', () => {
    const { job, usage } = setup(64);
    // A 1-hour run sampled every second.
    for (let s = 0; s <= 3600; s++) usage.add(job.id, 0, sample(s));
    const kept = seconds(usage.forJob(job.id).get(0)!);
    expect(kept.length).toBeLessThanOrEqual(64);
    expect(kept.length).toBeGreaterThanOrEqual(32);
    // The first sample stays and the newest is recent: the whole run is still there.
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBeGreaterThan(3600 - 64);
    // Evenly spaced (no dense tail, no lost middle): one bucket of 64 s, the first 2^k s above 3600 / 63.
    const gaps = kept.slice(1).map((t, i) => t - kept[i]!);
    expect(new Set(gaps)).toEqual(new Set([64]));
  });

  it('bounds every node on its own, refuses out-of-order samples, and goes with its job', () => {
    const { db, jobs, job, usage } = setup(6);
    for (let s = 0; s < 100; s++) usage.add(job.id, 0, sample(s));
    usage.add(job.id, 1, sample(50));
    expect(usage.add(job.id, 1, sample(40))).toBe(false);
    expect(usage.forJob(job.id).get(0)!.length).toBeLessThanOrEqual(6);
    expect(seconds(usage.forJob(job.id).get(1)!)).toEqual([50]);
    jobs.delete(job.id);
    expect(db.prepare('SELECT COUNT(*) AS n FROM usage_samples').get()).toEqual({ n: 0 });
  });
});
