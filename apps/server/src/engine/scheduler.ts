import { isTerminal, type JobStatus } from '@tc/contracts';
import type { JobRepository } from '../jobs/job-repository.js';
import { EventType, type JobRecord } from '../jobs/job.js';
import { addCapacity, demand, fits, NO_CAPACITY, type Capacity, type ResourcePools } from './resource-pools.js';
import { whyWaiting, type PoolJob, type Waiting } from './waiting.js';

/** Statuses in which a job holds its flavor × nodes: it has, or is about to have, containers. */
export const HOLDING: readonly JobStatus[] = ['Initializing', 'Running', 'Stopping'];

/**
 * First come, first served per pool: a new job is Queuing, and starts (Initializing) when every
 * job submitted before it in its pool has started and its flavor × nodes fits in what the running
 * jobs leave free. A big job at the head waits for room rather than being overtaken, so
 * submit order is start order, as users of a shared pool expect.
 */
export class Scheduler {
  private pumping = false;

  constructor(
    private readonly jobs: Pick<JobRepository, 'listByStatus' | 'transition' | 'addEvent' | 'onTransition'>,
    private readonly pools: Pick<ResourcePools, 'capacityOf' | 'flavor' | 'ids'>,
    private readonly startJob: (jobId: number) => void,
  ) {
    // A job that ends (a queued one stopped included) frees its share or its place in line.
    jobs.onTransition(({ to }) => {
      if (isTerminal(to)) queueMicrotask(() => this.pump());
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
    });
    const holders = this.jobs.listByStatus(HOLDING).map((j) => ({ pool: j.poolId, job: poolJob(j) }));
    const queue = this.jobs.listByStatus(['Queuing']).map((j) => ({ pool: j.poolId, job: poolJob(j) }));
    const inPool = (list: typeof holders, pool: string) => list.filter((e) => e.pool === pool).map((e) => e.job);
    for (const job of queuedOnes) {
      const w = whyWaiting({
        job: poolJob(job),
        pool: job.poolId,
        holders: inPool(holders, job.poolId),
        queue: inPool(queue, job.poolId),
        capacity: this.pools.capacityOf(job.poolId),
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

  /** Moves queued jobs to Initializing, in submit order, while they fit. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (const poolId of this.pools.ids()) {
        const capacity = this.pools.capacityOf(poolId);
        let used = this.used(poolId);
        for (const job of this.queued(poolId)) {
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
}
