import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import { schedulerHarness } from '../../test/support/scheduler-harness.js';
import { tempDatabase } from '../../test/support/temp-database.js';
import type { PoolConfig } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { JobRepository } from '../jobs/job-repository.js';
import type { EngineNode } from './container-engine.js';
import { ResourcePools } from './resource-pools.js';
import { Scheduler } from './scheduler.js';

const flavors: Flavor[] = [
  { id: 'small', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0, label: 'small' },
  { id: 'big', type: 'CPU', vcpus: 4, memoryGiB: 8, gpus: 0, label: 'big' },
  { id: 'huge', type: 'CPU', vcpus: 16, memoryGiB: 8, gpus: 0, label: 'huge' },
  { id: 'gpu', type: 'GPU', vcpus: 1, memoryGiB: 2, gpus: 1, label: 'gpu' },
  { id: 'two', type: 'CPU', vcpus: 2, memoryGiB: 1, gpus: 0, label: 'two' },
  { id: 'three', type: 'CPU', vcpus: 3, memoryGiB: 1, gpus: 0, label: 'three' },
];

const POOLS: PoolConfig[] = [
  { id: 'public', name: 'Public', capacity: null, flavors, network: true },
  { id: 'team-a', name: 'Team A', capacity: null, flavors, network: true },
];

function node(id: string, over: Partial<EngineNode> = {}): EngineNode {
  return { id, hostname: id, addr: '', labels: {}, ready: true, vcpus: 4, memoryGiB: 8, gpus: 0, ...over };
}

/** Three hosts of 4 vCPUs, 8 GiB: a1 and a2 labelled for team-a, p1 unlabelled (public). */
const threeNodes = (): EngineNode[] => [
  node('a2', { labels: { 'tc.pool': 'team-a' } }),
  node('p1'),
  node('a1', { labels: { 'tc.pool': 'team-a' } }),
  node('x1', { labels: { 'tc.pool': 'nobody' } }),
];

async function setUp(initial: EngineNode[] | null = threeNodes(), config: PoolConfig[] = POOLS) {
  const engine = { nodes: initial };
  const pools = new ResourcePools(
    config,
    async () => {
      throw new Error('a multi-host pool is its nodes, not the engine capacity');
    },
    {
      readNodes: async () => {
        if (!engine.nodes) throw new Error('manager down');
        return engine.nodes.map((n) => ({ ...n }));
      },
    },
  );
  const h = await schedulerHarness(pools, 'team-a');
  const { jobs, scheduler } = h;
  const hosts = (id: number) => jobs.nodes(id).map((n) => [n.hostId, n.hostName]);
  const why = (id: number) => scheduler.waiting([jobs.getById(id)!], { userId: 1, admin: true }).get(id)?.summary;
  return { ...h, engine, pools, hosts, why };
}

function fieldsOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.fields;
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

describe('ResourcePools on a multi-host engine', () => {
  it("makes a pool of its labelled nodes, the public pool of the unlabelled ones, and sums the ready ones' resources", async () => {
    const { pools, engine } = await setUp();
    expect(pools.multiHost).toBe(true);
    expect(pools.nodesOf('team-a')!.map((n) => n.id)).toEqual(['a2', 'a1']);
    expect(pools.nodesOf('public')!.map((n) => n.id)).toEqual(['p1']);
    expect(pools.capacityOf('team-a')).toEqual({ vcpus: 8, memoryGiB: 16, gpus: 0 });
    engine.nodes = threeNodes().map((n) => (n.id === 'a2' ? { ...n, ready: false } : n));
    await pools.refresh();
    expect(pools.capacityOf('team-a')).toEqual({ vcpus: 4, memoryGiB: 8, gpus: 0 });
  });

  it('refuses at submit a job with more nodes than the pool has ready, or a flavor no single node can hold', async () => {
    const { pools } = await setUp();
    const res = (flavor: string, nodes: number, pool = 'team-a') => ({ type: 'CPU' as const, flavor, nodes, pool });
    expect(pools.place(res('big', 2)).nodes).toBe(2);
    expect(fieldsOf(() => pools.place(res('small', 3)))).toEqual([
      {
        path: 'resources.nodes',
        message: 'small × 3 node(s): pool team-a has only 2 ready nodes; the job needs 3 nodes on different hosts; it cannot start',
      },
    ]);
    expect(fieldsOf(() => pools.place(res('small', 2, 'public')))[0]!.path).toBe('resources.nodes');
    // 8 vCPUs in the pool, but 4 on each host.
    expect(fieldsOf(() => pools.place(res('huge', 1)))).toEqual([
      {
        path: 'resources.flavor',
        message:
          'huge × 1 node(s): needs 1 node with 16 vCPUs, 8 GiB free in pool team-a; none has room (vCPUs short on 2 nodes); it cannot start',
      },
    ]);
    expect(fieldsOf(() => pools.place({ type: 'GPU', flavor: 'gpu', nodes: 1, pool: 'team-a' }))[0]!.message).toContain('has no GPUs');
  });

  it('accepts any size while the nodes are unknown', async () => {
    const { pools } = await setUp(null);
    expect(pools.capacityOf('team-a')).toBeNull();
    expect(pools.place({ type: 'CPU', flavor: 'small', nodes: 9, pool: 'team-a' }).nodes).toBe(9);
  });

  it("caps a pool's jobs in sum by its configured share, on top of room on each host", async () => {
    const shared: PoolConfig[] = [
      ...POOLS,
      { id: 'b', name: 'B', capacity: { vcpus: 2, memoryGiB: 16, gpus: 0 }, flavors, network: false },
    ];
    const nodes = [node('b1', { labels: { 'tc.pool': 'b' } }), node('b2', { labels: { 'tc.pool': 'b' } })];
    const { pools, submit, status, why } = await setUp(nodes, shared);
    expect(pools.capacityOf('b')).toEqual({ vcpus: 2, memoryGiB: 16, gpus: 0 });
    expect(fieldsOf(() => pools.place({ type: 'CPU', flavor: 'big', nodes: 1, pool: 'b' }))[0]!.message).toContain(
      'more than pool b has in all (2 vCPUs, 16 GiB, 0 GPUs)',
    );
    const a = submit('a', 'small', 2, 'b');
    const c = submit('c', 'small', 1, 'b');
    expect([status(a), status(c)]).toEqual(['Initializing', 'Queuing']);
    expect(why(c)).toMatch(/^position 1 in pool b; needs 1 vCPUs \(0 free\); 1 running job holds the pool/);
  });
});

describe('Scheduler on a multi-host engine: all or nothing, first come, first served per pool', () => {
  it("places each rank of a team's job on its own labelled host, records the hosts, and queues the next with the reason", async () => {
    const { submit, status, hosts, why, started, jobs } = await setUp();
    const a = submit('a', 'big', 2);
    expect(status(a)).toBe('Initializing');
    expect(hosts(a)).toEqual([
      ['a1', 'a1'],
      ['a2', 'a2'],
    ]);
    const b = submit('b', 'small');
    expect(status(b)).toBe('Queuing');
    expect(hosts(b)).toEqual([[null, null]]);
    expect(started).toEqual(['a']);
    expect(why(b)).toBe(
      'position 1 in pool team-a; needs 1 node with 1 vCPU, 2 GiB free in pool team-a; none has room (vCPUs short on 2 nodes, memory short on 2 nodes); 1 running job holds the pool; no start time can be estimated (a job ahead has no max runtime)',
    );
    expect(jobs.events(b).map((e) => e.message)).toEqual(['queued at position 1: waiting for small × 1 to be free in pool team-a']);
  });

  it('starts the waiting job when a holder ends, on the host it freed', async () => {
    const { submit, status, hosts, finish, started } = await setUp();
    const a = submit('a', 'big'); // a1 full
    const b = submit('b', 'small', 2); // a2 has room, a1 does not: waits
    expect(hosts(a)).toEqual([['a1', 'a1']]);
    expect(status(b)).toBe('Queuing');
    await finish(a);
    expect(status(b)).toBe('Initializing');
    expect(hosts(b).map(([id]) => id)).toEqual(['a1', 'a2']);
    expect(started).toEqual(['a', 'b']);
  });

  it('counts the jobs it starts in one pass: each takes its hosts from the next', async () => {
    const { submit, status, hosts, finish } = await setUp();
    const a = submit('a', 'big', 2);
    const b = submit('b', 'small');
    const c = submit('c', 'big');
    const d = submit('d', 'small');
    await finish(a);
    expect([status(b), status(c), status(d)]).toEqual(['Initializing', 'Initializing', 'Initializing']);
    expect([hosts(b), hosts(c), hosts(d)].map((h) => h.map(([id]) => id))).toEqual([['a1'], ['a2'], ['a1']]);
  });

  it('places by the free room on each host, not in sum: 2 ranks of 3 vCPUs do not fit in 2 + 4 free', async () => {
    const { submit, status, hosts, why, finish, scheduler } = await setUp();
    const x = submit('x', 'two'); // a1 (a tie, by hostname)
    const y = submit('y', 'two'); // a2, the one with most room
    expect([hosts(x), hosts(y)]).toEqual([[['a1', 'a1']], [['a2', 'a2']]]);
    await finish(y); // 2 vCPUs free on a1, 4 on a2: 6 in sum
    const t = submit('t', 'three', 2);
    expect(status(t)).toBe('Queuing');
    expect(why(t)).toMatch(/needs 2 nodes with 3 vCPUs, 1 GiB free in pool team-a; 1 has room \(vCPUs short on 1 node\)/);
    expect(scheduler.used('team-a').vcpus).toBe(2);
  });

  it('uses only the unlabelled host for the public pool, and keeps pools apart', async () => {
    const { submit, status, hosts } = await setUp();
    const p = submit('p', 'small', 1, 'public');
    const q = submit('q', 'big', 1, 'public'); // 3 vCPUs left on p1: waits, though team-a's hosts are idle
    const t = submit('t', 'big', 1);
    expect(hosts(p)).toEqual([['p1', 'p1']]);
    expect([status(q), status(t)]).toEqual(['Queuing', 'Initializing']);
  });

  it('does not start a small job ahead of a big one that waits before it', async () => {
    const { submit, status } = await setUp();
    submit('a', 'small'); // a1
    const big = submit('big', 'big', 2); // a1 has 3 left: waits
    const small = submit('small', 'small'); // would fit on a2, but is behind `big`
    expect([status(big), status(small)]).toEqual(['Queuing', 'Queuing']);
  });

  it('starts waiting jobs when a node joins or comes back, on the next read of the nodes', async () => {
    const { engine, submit, status, hosts, why, scheduler } = await setUp();
    const a = submit('a', 'small', 3);
    expect(status(a)).toBe('Queuing');
    expect(why(a)).toMatch(/^position 1 in pool team-a; pool team-a has only 2 ready nodes; the job needs 3 nodes on different hosts/);
    engine.nodes = [...threeNodes(), node('a3', { labels: { 'tc.pool': 'team-a' }, ready: false })];
    await scheduler.refresh();
    expect(status(a)).toBe('Queuing');
    expect(why(a)).toMatch(/pool team-a has only 2 ready nodes \(of 3\)/);
    engine.nodes = [...threeNodes(), node('a3', { labels: { 'tc.pool': 'team-a' } })];
    await scheduler.refresh();
    expect(status(a)).toBe('Initializing');
    expect(hosts(a).map(([id]) => id)).toEqual(['a1', 'a2', 'a3']);
  });

  it('counts the hosts of jobs that were running before (read from their nodes, not from memory)', async () => {
    const { jobs, pools, submit, status, hosts } = await setUp();
    const a = submit('a', 'big');
    expect(hosts(a)).toEqual([['a1', 'a1']]);
    // A new scheduler, as after a restart, sees a1 taken.
    const started: number[] = [];
    const again = new Scheduler(jobs, pools, (id) => void started.push(id));
    const b = submit('b', 'big');
    expect(status(b)).toBe('Initializing');
    expect(hosts(b)).toEqual([['a2', 'a2']]);
    const c = jobs.createWithNextVersion({
      name: 'c',
      description: null,
      spec: { name: 'c' } as CreateTrainingJobRequest,
      poolId: 'team-a',
      flavorId: 'small',
      nodeCount: 1,
      hostnames: (v) => [`c-${v}-0`],
      createdAt: '2026-01-01T00:00:00.000Z',
      ownerId: 1,
    });
    again.pump();
    expect(status(c.id)).toBe('Queuing');
    expect(started).toEqual([]);
  });

  it('places a job the runner sends back to the queue afresh, after reading the nodes again', async () => {
    const { engine, jobs, submit, status, hosts, scheduler } = await setUp();
    const a = submit('a', 'big');
    expect(hosts(a)).toEqual([['a1', 'a1']]);
    // a1 went away under it; the runner clears the placement and requeues the job.
    engine.nodes = threeNodes().filter((n) => n.id !== 'a1');
    jobs.setHosts(a, null);
    jobs.transition(a, 'Initializing', 'Queuing');
    await scheduler.refresh();
    expect(status(a)).toBe('Initializing');
    expect(hosts(a)).toEqual([['a2', 'a2']]);
  });

  it('keeps jobs queued while the nodes are unknown, saying so, and starts them once the engine answers', async () => {
    const { engine, submit, status, why, scheduler } = await setUp(null);
    const a = submit('a', 'small');
    expect(status(a)).toBe('Queuing');
    expect(why(a)).toBe('position 1 in pool team-a: waiting for the engine to report its nodes');
    engine.nodes = threeNodes();
    await scheduler.refresh();
    expect(status(a)).toBe('Initializing');
  });

  it('reads the nodes on a timer only on a multi-host engine, and stops', async () => {
    const { scheduler } = await setUp();
    scheduler.start(60_000);
    await scheduler.stop();
    const single = new Scheduler(
      new JobRepository(tempDatabase()),
      new ResourcePools(POOLS, async () => ({ vcpus: 1, memoryGiB: 1, gpus: 0 })),
      () => {},
    );
    single.start(60_000);
    await single.stop();
  });
});
