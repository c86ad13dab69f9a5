import { describe, expect, it } from 'vitest';
import type { Flavor } from '@tc/contracts';
import { whyWaiting, type PoolJob, type WaitingInput } from './waiting.js';

const flavors: Record<string, Flavor> = {
  small: { id: 'small', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0 },
  big: { id: 'big', type: 'CPU', vcpus: 3, memoryGiB: 6, gpus: 0 },
};
const now = new Date('2026-12-01T12:00:00Z');
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();

function job(id: number, over: Partial<PoolJob> = {}): PoolJob {
  return {
    id,
    name: `job-${id}`,
    version: 'V001',
    ownerId: 1,
    flavorId: 'small',
    nodeCount: 1,
    startedAt: null,
    maxRuntimeMinutes: null,
    ...over,
  };
}

function input(over: Partial<WaitingInput>): WaitingInput {
  return {
    job: job(10),
    pool: 'public',
    holders: [],
    queue: [job(10)],
    capacity: { vcpus: 4, memoryGiB: 8, gpus: 0 },
    flavorOf: (id) => flavors[id] ?? null,
    viewer: { userId: 1, admin: false },
    now,
    ...over,
  };
}

describe('whyWaiting', () => {
  it('says which resource is short and by how much, after the running jobs and those queued ahead', () => {
    const holders = [job(1, { flavorId: 'big', startedAt: minutesAgo(10), maxRuntimeMinutes: 30 })];
    const queue = [job(2), job(10, { flavorId: 'big' })];
    const w = whyWaiting(input({ job: queue[1]!, holders, queue }))!;
    expect(w.position).toBe(2);
    // 4 vCPUs − 3 running − 1 queued ahead = 0 free for a job that needs 3.
    expect(w.short).toEqual([
      { resource: 'vCPUs', need: 3, free: 0 },
      { resource: 'memory (GiB)', need: 6, free: 0 },
    ]);
    expect(w.ahead.map((a) => [a.name, a.state, a.expectedEnd])).toEqual([
      ['job-1', 'running', '2026-12-01T12:20:00.000Z'],
      ['job-2', 'queued', null],
    ]);
    // job-2 fits now (1 free); job-10 needs job-1 to end at 12:20, but job-2 has no max runtime
    // and holds 1 vCPU: 4 − 1 = 3 free then, enough.
    expect(w.estimatedStart).toBe('2026-12-01T12:20:00.000Z');
    expect(w.summary).toBe(
      'position 2 in pool public; needs 3 vCPUs (0 free), 6 memory (GiB) (0 free); 1 running job holds the pool; 1 queued job starts first; starts by 2026-12-01T12:20:00.000Z at the latest (from the max runtimes ahead)',
    );
  });

  it('gives no estimate when a job it waits for has no max runtime', () => {
    const holders = [job(1, { flavorId: 'big', startedAt: minutesAgo(10) })];
    const w = whyWaiting(input({ job: job(10, { flavorId: 'big' }), holders, queue: [job(10, { flavorId: 'big' })] }))!;
    expect(w.estimatedStart).toBeNull();
    expect(w.summary).toMatch(/no start time can be estimated/);
  });

  it('replays first come, first served: a later job starts after the ones ahead, at the ends that make room', () => {
    const holders = [
      job(1, { flavorId: 'big', startedAt: minutesAgo(0), maxRuntimeMinutes: 10 }),
      job(2, { startedAt: minutesAgo(0), maxRuntimeMinutes: 60 }),
    ];
    // job-3 (big) starts at 12:10 when job-1 ends, and runs 30 minutes; job-10 (big) then needs
    // job-3 to end at 12:40 (job-2 still holds 1 vCPU, so only 3 are free after job-3).
    const queue = [job(3, { flavorId: 'big', maxRuntimeMinutes: 30 }), job(10, { flavorId: 'big' })];
    const w = whyWaiting(input({ job: queue[1]!, holders, queue }))!;
    expect(w.estimatedStart).toBe('2026-12-01T12:40:00.000Z');
  });

  it('says a retry waits out its backoff, and starts no sooner than its end', () => {
    const queue = [job(10, { notBefore: '2026-12-01T12:00:30.000Z' })];
    const w = whyWaiting(input({ job: queue[0]!, queue }))!;
    expect(w.short).toEqual([]);
    expect(w.estimatedStart).toBe('2026-12-01T12:00:30.000Z');
    expect(w.summary).toBe('position 1 in pool public; a retry, waiting out its backoff until 2026-12-01T12:00:30.000Z');
    // Over: nothing more to say about it.
    const later = whyWaiting(input({ job: queue[0]!, queue, now: new Date('2026-12-01T12:01:00Z') }))!;
    expect(later.summary).not.toContain('backoff');
  });

  it("hides the names of other users' jobs from a user, not from an admin", () => {
    const holders = [job(1, { ownerId: 2, startedAt: minutesAgo(1), flavorId: 'big' })];
    const queue = [job(10, { flavorId: 'big' })];
    expect(whyWaiting(input({ job: queue[0]!, holders, queue }))!.ahead[0]).toMatchObject({ name: null, version: null, flavor: 'big' });
    expect(whyWaiting(input({ job: queue[0]!, holders, queue, viewer: { userId: 1, admin: true } }))!.ahead[0]!.name).toBe('job-1');
  });

  it('says it waits for the engine while the capacity is unknown, and null for a job not in the queue', () => {
    expect(whyWaiting(input({ capacity: null }))!.summary).toBe('position 1 in pool public: waiting for the engine to report its capacity');
    expect(whyWaiting(input({ queue: [] }))).toBeNull();
  });
});

describe('whyWaiting on a multi-host pool', () => {
  const node = (id: string) => ({ id, hostname: id, addr: '', labels: {}, ready: true, vcpus: 4, memoryGiB: 8, gpus: 0 });
  const nodes = [node('n1'), node('n2')];

  it('says what placement lacks, and replays the starts per host', () => {
    // job-1 holds 3 of n1's 4 vCPUs until 12:20; job-2 (small) goes to n2 now. job-10 wants 2
    // ranks of 3 vCPUs: only n2 has 3 free until job-1 ends (job-2 ends at 12:05, which is not enough).
    const holders = [job(1, { flavorId: 'big', startedAt: minutesAgo(10), maxRuntimeMinutes: 30, hosts: ['n1'] })];
    const queue = [job(2, { maxRuntimeMinutes: 5 }), job(10, { flavorId: 'big', nodeCount: 2 })];
    const w = whyWaiting(input({ job: queue[1]!, holders, queue, capacity: { vcpus: 8, memoryGiB: 16, gpus: 0 }, multiHost: { nodes } }))!;
    expect(w.summary).toBe(
      'position 2 in pool public; needs 2 nodes with 3 vCPUs, 6 GiB free in pool public; 1 has room (vCPUs short on 1 node, memory short on 1 node); 1 running job holds the pool; 1 queued job starts first; starts by 2026-12-01T12:20:00.000Z at the latest (from the max runtimes ahead)',
    );
    expect(w.estimatedStart).toBe('2026-12-01T12:20:00.000Z');
  });

  it('waits for the nodes while the engine has not reported them', () => {
    expect(whyWaiting(input({ multiHost: { nodes: null } }))!.summary).toBe(
      'position 1 in pool public: waiting for the engine to report its nodes',
    );
  });
});
