import { addCapacity, demand, fits, NO_CAPACITY, type Capacity } from './resource-pools.js';
import type { Flavor } from '@tc/contracts';

/** A job as the wait explanation needs it: what it holds or asks for, and when it must end. */
export interface PoolJob {
  id: number;
  name: string;
  version: string;
  ownerId: number | null;
  flavorId: string;
  nodeCount: number;
  /** For a running job: when it started (its max runtime counts from there). */
  startedAt: string | null;
  maxRuntimeMinutes: number | null;
}

export interface Shortage {
  resource: 'vCPUs' | 'memory (GiB)' | 'GPUs';
  need: number;
  free: number;
}

export interface JobAhead {
  /** null when the job is another user's: its name is not theirs to see. */
  name: string | null;
  version: string | null;
  state: 'running' | 'queued';
  flavor: string;
  nodes: number;
  /** From its max runtime; null when it has none, or has not started. */
  expectedEnd: string | null;
}

export interface Waiting {
  position: number;
  pool: string;
  short: Shortage[];
  ahead: JobAhead[];
  /** When it would start if every job ahead ran its full max runtime; null when one has none. */
  estimatedStart: string | null;
  /** The same, in words, for the list and the job page. */
  summary: string;
}

export interface WaitingInput {
  job: PoolJob;
  pool: string;
  /** Jobs holding the pool's resources (Initializing, Running, Stopping). */
  holders: readonly PoolJob[];
  /** Queued jobs of the pool, in order; the job itself among them. */
  queue: readonly PoolJob[];
  /** null while the engine's capacity is unknown. */
  capacity: Capacity | null;
  flavorOf: (flavorId: string) => Flavor | null;
  /** Whose eyes: another owner's jobs are shown without their names. */
  viewer: { userId: number; admin: boolean };
  now: Date;
}

const round = (n: number): number => +n.toFixed(2);

function needOf(j: PoolJob, flavorOf: WaitingInput['flavorOf']): Capacity {
  const f = flavorOf(j.flavorId);
  return f ? demand(f, j.nodeCount) : NO_CAPACITY;
}

function subtract(a: Capacity, b: Capacity): Capacity {
  return { vcpus: a.vcpus - b.vcpus, memoryGiB: a.memoryGiB - b.memoryGiB, gpus: a.gpus - b.gpus };
}

/**
 * Why a queued job has not started, for a person: its place, what it needs that is not free
 * (after the running jobs and the queued jobs ahead of it, which start first), the jobs ahead,
 * and when it would start if each of them ran its full max runtime (the scheduler is first come,
 * first served, so this replays it: each queued job starts once enough running ones have ended).
 */
export function whyWaiting(input: WaitingInput): Waiting | null {
  const { job, queue, holders, capacity, flavorOf, viewer, now } = input;
  const index = queue.findIndex((q) => q.id === job.id);
  if (index < 0) return null;
  const position = index + 1;
  const visible = (j: PoolJob): boolean => viewer.admin || j.ownerId === viewer.userId;
  const endOf = (j: PoolJob, start: number): number | null => (j.maxRuntimeMinutes ? start + j.maxRuntimeMinutes * 60_000 : null);
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

  const ahead: JobAhead[] = [
    ...holders.map((h) => ({
      name: visible(h) ? h.name : null,
      version: visible(h) ? h.version : null,
      state: 'running' as const,
      flavor: h.flavorId,
      nodes: h.nodeCount,
      expectedEnd: iso(h.startedAt ? endOf(h, Date.parse(h.startedAt)) : null),
    })),
    ...queue.slice(0, index).map((q) => ({
      name: visible(q) ? q.name : null,
      version: visible(q) ? q.version : null,
      state: 'queued' as const,
      flavor: q.flavorId,
      nodes: q.nodeCount,
      expectedEnd: null,
    })),
  ];

  const need = needOf(job, flavorOf);
  if (!capacity) {
    return {
      position,
      pool: input.pool,
      short: [],
      ahead,
      estimatedStart: null,
      summary: `position ${position} in pool ${input.pool}: waiting for the engine to report its capacity`,
    };
  }
  let used = NO_CAPACITY;
  for (const h of holders) used = addCapacity(used, needOf(h, flavorOf));
  for (const q of queue.slice(0, index)) used = addCapacity(used, needOf(q, flavorOf));
  const free = subtract(capacity, used);
  const short: Shortage[] = [];
  if (need.vcpus > free.vcpus + 1e-9) short.push({ resource: 'vCPUs', need: round(need.vcpus), free: round(Math.max(0, free.vcpus)) });
  if (need.memoryGiB > free.memoryGiB + 1e-9)
    short.push({ resource: 'memory (GiB)', need: round(need.memoryGiB), free: round(Math.max(0, free.memoryGiB)) });
  if (need.gpus > free.gpus + 1e-9) short.push({ resource: 'GPUs', need: need.gpus, free: Math.max(0, free.gpus) });

  // Replay first come, first served with every running job ending at its max runtime.
  const nowMs = now.getTime();
  let running = holders.map((h) => ({ need: needOf(h, flavorOf), end: h.startedAt ? endOf(h, Date.parse(h.startedAt)) : null }));
  let clock = nowMs;
  let estimate: number | null = null;
  for (const q of queue.slice(0, index + 1)) {
    const qNeed = needOf(q, flavorOf);
    const inUse = (): Capacity => running.reduce((a, r) => addCapacity(a, r.need), NO_CAPACITY);
    // Running jobs end in order; the queued job starts at the first end after which it fits.
    const ends = running.map((r) => r.end).sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
    let start: number | null = fits(qNeed, capacity, inUse()) ? clock : null;
    for (const end of ends) {
      if (start !== null) break;
      if (end === null) break;
      clock = Math.max(clock, end);
      running = running.filter((r) => r.end === null || r.end > clock);
      if (fits(qNeed, capacity, inUse())) start = clock;
    }
    if (start === null) {
      estimate = null;
      break;
    }
    running.push({ need: qNeed, end: endOf(q, start) });
    estimate = start;
  }

  const words: string[] = [`position ${position} in pool ${input.pool}`];
  if (short.length) words.push(`needs ${short.map((s) => `${s.need} ${s.resource} (${s.free} free)`).join(', ')}`);
  const runningN = holders.length;
  const queuedN = index;
  if (runningN) words.push(`${runningN} running job${runningN === 1 ? ' holds' : 's hold'} the pool`);
  if (queuedN) words.push(`${queuedN} queued job${queuedN === 1 ? ' starts' : 's start'} first`);
  if (estimate !== null && estimate > nowMs)
    words.push(`starts by ${new Date(estimate).toISOString()} at the latest (from the max runtimes ahead)`);
  else if (estimate === null) words.push('no start time can be estimated (a job ahead has no max runtime)');
  return { position, pool: input.pool, short, ahead, estimatedStart: iso(estimate), summary: words.join('; ') };
}
