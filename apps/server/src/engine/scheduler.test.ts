import { describe, expect, it } from 'vitest';
import type { Flavor } from '@tc/contracts';
import { schedulerHarness } from '../../test/support/scheduler-harness.js';
import type { PoolConfig } from '../config.js';
import { ResourcePools, type Capacity } from './resource-pools.js';
import { Scheduler } from './scheduler.js';

const flavors: Flavor[] = [
  { id: 'small', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0, label: 'small' },
  { id: 'big', type: 'CPU', vcpus: 4, memoryGiB: 8, gpus: 0, label: 'big' },
];

const POOLS: PoolConfig[] = [
  { id: 'public', name: 'Public', capacity: null, flavors, network: false },
  { id: 'team', name: 'Team', capacity: { vcpus: 2, memoryGiB: 4, gpus: 0 }, flavors, network: false },
];

/** Engine capacity: 4 vCPUs, 16 GiB unless a test says otherwise; null: the engine has not answered. */
async function setUp(engine: Capacity | null = { vcpus: 4, memoryGiB: 16, gpus: 0 }) {
  const pools = new ResourcePools(POOLS, async () => {
    if (!engine) throw new Error('engine down');
    return engine;
  });
  return schedulerHarness(pools, 'public');
}

describe('Scheduler: first come, first served per pool', () => {
  it('starts a job that fits at once, holding its flavor × nodes', async () => {
    const { submit, status, started, scheduler } = await setUp();
    const a = submit('a', 'small', 2);
    expect(status(a)).toBe('Initializing');
    expect(started).toEqual(['a']);
    expect(scheduler.used('public')).toEqual({ vcpus: 2, memoryGiB: 4, gpus: 0 });
  });

  it('queues a job that does not fit in what the running jobs leave, with its position on the timeline', async () => {
    const { submit, status, scheduler, jobs } = await setUp();
    submit('a', 'big');
    const b = submit('b', 'small');
    const c = submit('c', 'small');
    expect([status(b), status(c)]).toEqual(['Queuing', 'Queuing']);
    expect(scheduler.position(jobs.getById(c)!)).toBe(2);
    expect(jobs.events(c).map((e) => e.message)).toEqual(['queued at position 2: waiting for small × 1 to be free in pool public']);
  });

  it('does not start a small job ahead of a big one that waits before it, even when the small one would fit', async () => {
    const { submit, status, started } = await setUp();
    submit('a', 'small', 2); // 2 of 4 vCPUs used
    const big = submit('big', 'big'); // needs 4: waits
    const small = submit('small', 'small'); // would fit in the 2 left, but is behind `big`
    expect(status(big)).toBe('Queuing');
    expect(status(small)).toBe('Queuing');
    expect(started).toEqual(['a']);
  });

  it('starts waiting jobs in submit order when a running job ends, as many as fit', async () => {
    const { submit, status, finish, started } = await setUp();
    const a = submit('a', 'big');
    const b = submit('b', 'small', 2);
    const c = submit('c', 'small', 2);
    const d = submit('d', 'small');
    await finish(a);
    expect([status(b), status(c), status(d)]).toEqual(['Initializing', 'Initializing', 'Queuing']);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('moves everyone up when a queued job is stopped', async () => {
    const { submit, jobs, scheduler } = await setUp();
    submit('a', 'big');
    const b = submit('b', 'small');
    const c = submit('c', 'small');
    jobs.transition(b, 'Queuing', 'Stopped', { endedAt: '2026-01-01T00:00:01.000Z' });
    expect(scheduler.position(jobs.getById(c)!)).toBe(1);
    expect([...scheduler.positions()]).toEqual([[c, 1]]);
  });

  it('keeps pools apart: a full pool does not hold back another, and a dedicated pool stops at its share', async () => {
    const { submit, status } = await setUp();
    submit('pub', 'big');
    const t1 = submit('t1', 'small', 1, 'team');
    const t2 = submit('t2', 'small', 1, 'team');
    const t3 = submit('t3', 'small', 1, 'team');
    expect([status(t1), status(t2), status(t3)]).toEqual(['Initializing', 'Initializing', 'Queuing']);
  });

  it('gives queue positions per pool', async () => {
    const { submit, scheduler } = await setUp();
    submit('pub', 'big');
    submit('t', 'big', 1, 'team'); // bigger than the team's share: the runner's concern, the queue is held
    const p = submit('p', 'small');
    const q = submit('q', 'small', 1, 'team');
    expect(scheduler.positions()).toEqual(
      new Map([
        [p, 1],
        [jobsIdOf(scheduler, 't'), 1],
        [q, 2],
      ]),
    );
  });

  it('starts jobs while the engine capacity is unknown (the runner reports the engine instead)', async () => {
    const { submit, status } = await setUp(null);
    const a = submit('a', 'big');
    const b = submit('b', 'big');
    expect([status(a), status(b)]).toEqual(['Initializing', 'Initializing']);
  });
});

function jobsIdOf(scheduler: Scheduler, name: string): number {
  return scheduler.queued('team').find((j) => j.name === name)!.id;
}
