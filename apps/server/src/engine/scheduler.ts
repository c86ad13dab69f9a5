import { isTerminal, type JobStatus } from '@tc/contracts';
import type { JobRepository } from '../jobs/job-repository.js';
import { EventType, type JobRecord } from '../jobs/job.js';
import { holdOn, placeRanks } from './placement.js';
import { addCapacity, demand, fits, NO_CAPACITY, type Capacity, type ResourcePools } from './resource-pools.js';
import { whyWaiting, type PoolJob, type Waiting } from './waiting.js';

/** Statuses in which a job holds its flavor × nodes: it has, or is about to have, containers. */
export const HOLDING: readonly JobStatus[] = ['Initializing', 'Running', 'Stopping'];

/**
 * First come, first served per pool: a new job is Queuing, and starts (Initializing) when every
 * job submitted before it in its pool has started and its flavor × nodes fits in what the running
 * jobs leave free. A big job at the head waits for room rather than being overtaken, so
 * submit order is start order, as users of a shared pool expect.
 *
 * On a multi-host engine (swarm) a pool is a set of hosts and a job starts all or nothing: each
 * of its ranks on a different ready node of the pool with room for its flavor beside what the
 * holding jobs' ranks take there (placement.ts). The chosen hosts are recorded on the job's
 * nodes before it leaves the queue. The nodes are read again every few seconds (start()), so a
 * node that joins or comes back starts the jobs waiting for it.
 */
export class Scheduler {
  private pumping = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  /** Wakes the pump when the earliest retry backoff among the queued jobs ends. */
  private backoffTimer: NodeJS.Timeout | null = null;
  private backoffAt: number | null = null;

  constructor(
    private readonly jobs: Pick<JobRepository, 'listByStatus' | 'transition' | 'addEvent' | 'onTransition' | 'nodes' | 'setHosts'>,
    private readonly pools: Pick<ResourcePools, 'capacityOf' | 'flavor' | 'ids' | 'multiHost' | 'nodesOf' | 'refresh'>,
    private readonly startJob: (jobId: number) => void,
  ) {
    // A job that ends (a queued one stopped included) frees its share or its place in line.
    jobs.onTransition(({ to }) => {
      if (isTerminal(to)) queueMicrotask(() => this.pump());
      // Multi-host: a job the runner sent back to be placed afresh; the nodes are read first, so
      // the one that failed it is seen as it is now.
      else if (to === 'Queuing' && pools.multiHost) void this.refresh();
      // A retry back in the queue: the pump arms the wake-up for the end of its backoff.
      else if (to === 'Queuing') queueMicrotask(() => this.pump());
    });
  }

  /** Starts what fits for a newly created (Queuing) job; records the wait when it has to. */
  admit(job: JobRecord): void {
    this.pump();
    const position = this.position(job);
    if (position !== null) {
      this.jobs.addEvent(
        job.id,
        EventType.queued,
        `queued at position ${position}: waiting for ${job.flavorId} × ${job.nodeCount} to be free in pool ${job.poolId}`,
      );
    }
  }

  /** What jobs that hold resources use in the pool. */
  used(poolId: string): Capacity {
    let used = NO_CAPACITY;
    for (const j of this.jobs.listByStatus(HOLDING)) {
      if (j.poolId !== poolId) continue;
      const f = this.pools.flavor(j.poolId, j.flavorId);
      if (f) used = addCapacity(used, demand(f, j.nodeCount));
    }
    return used;
  }

  queued(poolId: string): JobRecord[] {
    return this.jobs.listByStatus(['Queuing']).filter((j) => j.poolId === poolId);
  }

  /** 1-based place in its pool's queue; null when the job is not Queuing. */
  position(job: Pick<JobRecord, 'id' | 'status' | 'poolId'>): number | null {
    if (job.status !== 'Queuing') return null;
    const i = this.queued(job.poolId).findIndex((j) => j.id === job.id);
    return i < 0 ? null : i + 1;
  }

  /**
   * Why each queued job of `jobs` waits, as `viewer` may see it (the others are left out). The
   * running and queued jobs are read once for them all, so a list page costs two queries.
   */
  waiting(jobs: readonly JobRecord[], viewer: { userId: number; admin: boolean }, now = new Date()): Map<number, Waiting> {
    const out = new Map<number, Waiting>();
    const queuedOnes = jobs.filter((j) => j.status === 'Queuing');
    if (!queuedOnes.length) return out;
    const poolJob = (j: JobRecord): PoolJob => ({
      id: j.id,
      name: j.name,
      version: j.version,
      ownerId: j.ownerId,
      flavorId: j.flavorId,
      nodeCount: j.nodeCount,
      startedAt: j.startedAt,
      maxRuntimeMinutes: j.spec.maxRuntimeMinutes ?? null,
      notBefore: j.notBefore,
    });
    // Multi-host: where each holding job's ranks are, to replay placement per node (one query each).
    const multiHost = this.pools.multiHost;
    const holders = this.jobs
      .listByStatus(HOLDING)
      .map((j) => ({ pool: j.poolId, job: multiHost ? { ...poolJob(j), hosts: this.hostsOf(j.id) } : poolJob(j) }));
    const queue = this.jobs.listByStatus(['Queuing']).map((j) => ({ pool: j.poolId, job: poolJob(j) }));
    const inPool = (list: typeof holders, pool: string) => list.filter((e) => e.pool === pool).map((e) => e.job);
    for (const job of queuedOnes) {
      const w = whyWaiting({
        job: poolJob(job),
        pool: job.poolId,
        holders: inPool(holders, job.poolId),
        queue: inPool(queue, job.poolId),
        capacity: this.pools.capacityOf(job.poolId),
        ...(multiHost ? { multiHost: { nodes: this.pools.nodesOf(job.poolId) } } : {}),
        flavorOf: (id) => this.pools.flavor(job.poolId, id) ?? null,
        viewer,
        now,
      });
      if (w) out.set(job.id, w);
    }
    return out;
  }

  /** Positions of every queued job, for list views that show many at once. */
  positions(): Map<number, number> {
    const out = new Map<number, number>();
    for (const pool of this.pools.ids()) this.queued(pool).forEach((j, i) => out.set(j.id, i + 1));
    return out;
  }

  /**
   * Whether a queued job may start now: a retry waits out its backoff. It does not hold the
   * line meanwhile (the jobs behind it may start), and takes its place again once it is over.
   */
  private due(job: JobRecord, now: number): boolean {
    if (!job.notBefore) return true;
    const at = Date.parse(job.notBefore);
    if (at <= now) return true;
    this.wakeAt(at);
    return false;
  }

  /** Pumps again at `at`, unless a wake-up is already set for no later. */
  private wakeAt(at: number): void {
    if (this.backoffAt !== null && this.backoffAt <= at) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffAt = at;
    this.backoffTimer = setTimeout(
      () => {
        this.backoffTimer = null;
        this.backoffAt = null;
        if (this.pools.multiHost) void this.refresh();
        else this.pump();
      },
      Math.max(0, at - Date.now()),
    );
    this.backoffTimer.unref();
  }

  /** Moves queued jobs to Initializing, in submit order, while they fit. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      if (this.pools.multiHost) {
        this.pumpPlaced();
        return;
      }
      for (const poolId of this.pools.ids()) {
        const capacity = this.pools.capacityOf(poolId);
        let used = this.used(poolId);
        const now = Date.now();
        for (const job of this.queued(poolId)) {
          if (!this.due(job, now)) continue;
          const f = this.pools.flavor(poolId, job.flavorId);
          // A flavor removed from the configuration: let the runner fail it with the reason.
          const need = f ? demand(f, job.nodeCount) : NO_CAPACITY;
          // Capacity unknown (the engine has not answered yet): the runner will report the engine.
          if (capacity && !fits(need, capacity, used)) break;
          if (!this.jobs.transition(job.id, 'Queuing', 'Initializing')) continue;
          used = addCapacity(used, need);
          this.startJob(job.id);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Multi-host: reads the engine's nodes every `intervalMs` and starts what now has room, so a
   * node that joins or recovers starts the jobs waiting for it. Nothing on a single engine (its
   * jobs start when others end). The timer does not keep the process alive.
   */
  start(intervalMs = 5000): void {
    if (!this.pools.multiHost || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Stops the node reads; waits for one under way, so a closing app does not outlive it. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.backoffAt = null;
    await this.refreshing;
  }

  /** Reads the nodes once and starts what fits (the periodic step; tests call it directly). */
  refresh(): Promise<void> {
    // A slow engine must not pile up reads: a tick while one is under way joins it.
    this.refreshing ??= (async () => {
      try {
        await this.pools.refresh();
        this.pump();
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** The EngineNode ids a job's ranks were placed on (multi-host), in rank order. */
  private hostsOf(jobId: number): string[] {
    return this.jobs.nodes(jobId).flatMap((n) => (n.hostId ? [n.hostId] : []));
  }

  /**
   * What the holding jobs take on each node: their flavor once per rank, on the host the rank
   * was placed on. Every pool's holders count: a node relabelled to another pool still runs
   * what it ran.
   */
  private heldPerNode(): Map<string, Capacity> {
    let held = new Map<string, Capacity>();
    for (const j of this.jobs.listByStatus(HOLDING)) {
      const f = this.pools.flavor(j.poolId, j.flavorId);
      if (f) held = holdOn(held, this.hostsOf(j.id), f);
    }
    return held;
  }

  /** pump() on a multi-host engine: first come, first served per pool, placed all or nothing. */
  private pumpPlaced(): void {
    let held: Map<string, Capacity> | null = null;
    for (const poolId of this.pools.ids()) {
      const queued = this.queued(poolId);
      if (!queued.length) continue;
      // Nodes unknown (the engine has not answered yet): a job cannot be placed, so it waits.
      const nodes = this.pools.nodesOf(poolId);
      if (!nodes) continue;
      held ??= this.heldPerNode();
      // A configured share caps the pool's jobs in sum, on top of room on each host.
      const capacity = this.pools.capacityOf(poolId);
      let used = this.used(poolId);
      const now = Date.now();
      for (const job of queued) {
        if (!this.due(job, now)) continue;
        const f = this.pools.flavor(poolId, job.flavorId);
        if (!f) {
          // A flavor removed from the configuration: let the runner fail it with the reason.
          if (this.jobs.transition(job.id, 'Queuing', 'Initializing')) this.startJob(job.id);
          continue;
        }
        const need = demand(f, job.nodeCount);
        if (capacity && !fits(need, capacity, used)) break;
        const placed = placeRanks({ nodes, held, flavor: f, count: job.nodeCount, pool: poolId });
        if (!placed.ok) break;
        // Recorded before the job leaves the queue: the runner reads its hosts when it starts.
        this.jobs.setHosts(
          job.id,
          placed.nodes.map((n) => ({ id: n.id, name: n.hostname })),
        );
        if (!this.jobs.transition(job.id, 'Queuing', 'Initializing')) {
          this.jobs.setHosts(job.id, null);
          continue;
        }
        held = holdOn(
          held,
          placed.nodes.map((n) => n.id),
          f,
        );
        used = addCapacity(used, need);
        this.startJob(job.id);
      }
    }
  }
}
