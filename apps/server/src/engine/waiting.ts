import { addCapacity, demand, fits, NO_CAPACITY, type Capacity } from './resource-pools.js';
import type { Flavor } from '@tc/contracts';
import type { EngineNode } from './container-engine.js';
import { holdOn, placeRanks } from './placement.js';

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
  /** Multi-host: the nodes (EngineNode ids) a holding job's ranks were placed on. */
  hosts?: readonly string[];
  /** A retry waiting out its backoff: it does not start before this, whatever is free. */
  notBefore?: string | null;
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
  /**
   * A pool of a multi-host engine: its nodes (null while unknown). A job then starts when each
   * of its ranks has a node of its own (placement.ts), and the words say what placement lacks.
   */
  multiHost?: { nodes: readonly EngineNode[] | null };
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
  const nodes = input.multiHost ? input.multiHost.nodes : undefined;
  if (!capacity || nodes === null) {
    return {
      position,
      pool: input.pool,
      short: [],
      ahead,
      estimatedStart: null,
      summary: `position ${position} in pool ${input.pool}: waiting for the engine to report its ${nodes === null ? 'nodes' : 'capacity'}`,
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

  // What a job holds while it runs: its demand, and on a multi-host pool the flavor on each of
  // its nodes. `place` says where a queued job would go beside the running ones (null: it does not fit).
  interface Run {
    need: Capacity;
    on: readonly string[];
    flavor: Flavor | null;
    end: number | null;
  }
  const heldOf = (running: readonly Run[]): Map<string, Capacity> => {
    let held = new Map<string, Capacity>();
    for (const r of running) if (r.flavor) held = holdOn(held, r.on, r.flavor);
    return held;
  };
  const place = (q: PoolJob, running: readonly Run[]): string[] | null => {
    // In sum first (a configured share caps a multi-host pool too), then on each host.
    const inUse = running.reduce((a, r) => addCapacity(a, r.need), NO_CAPACITY);
    if (!fits(needOf(q, flavorOf), capacity, inUse)) return null;
    if (!nodes) return [];
    const f = flavorOf(q.flavorId);
    if (!f) return [];
    const r = placeRanks({ nodes, held: heldOf(running), flavor: f, count: q.nodeCount, pool: input.pool });
    return r.ok ? r.nodes.map((n) => n.id) : null;
  };

  // Replay first come, first served with every running job ending at its max runtime.
  const nowMs = now.getTime();
  let running: Run[] = holders.map((h) => ({
    need: needOf(h, flavorOf),
    on: h.hosts ?? [],
    flavor: flavorOf(h.flavorId),
    end: h.startedAt ? endOf(h, Date.parse(h.startedAt)) : null,
  }));
  let clock = nowMs;
  let estimate: number | null = null;
  for (const q of queue.slice(0, index + 1)) {
    // Running jobs end in order; the queued job starts at the first end after which it fits.
    const ends = running.map((r) => r.end).sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
    let on = place(q, running);
    let start: number | null = on ? clock : null;
    for (const end of ends) {
      if (start !== null) break;
      if (end === null) break;
      clock = Math.max(clock, end);
      running = running.filter((r) => r.end === null || r.end > clock);
      on = place(q, running);
      if (on) start = clock;
    }
    if (start === null || !on) {
      estimate = null;
      break;
    }
    running.push({ need: needOf(q, flavorOf), on, flavor: flavorOf(q.flavorId), end: endOf(q, start) });
    estimate = start;
  }

  // A retry in its backoff starts no sooner than its end, whatever is free by then.
  const backoffEnd = job.notBefore ? Date.parse(job.notBefore) : null;
  const inBackoff = backoffEnd !== null && backoffEnd > nowMs;
  if (inBackoff && estimate !== null) estimate = Math.max(estimate, backoffEnd);

  const words: string[] = [`position ${position} in pool ${input.pool}`];
  if (inBackoff) words.push(`a retry, waiting out its backoff until ${iso(backoffEnd)}`);
  if (nodes) {
    // Per host, not in sum: the queued jobs ahead take their nodes first where they can.
    let taken: Run[] = holders.map((h) => ({ need: needOf(h, flavorOf), on: h.hosts ?? [], flavor: flavorOf(h.flavorId), end: null }));
    for (const q of queue.slice(0, index)) {
      const on = place(q, taken);
      if (on) taken = [...taken, { need: needOf(q, flavorOf), on, flavor: flavorOf(q.flavorId), end: null }];
    }
    const f = flavorOf(job.flavorId);
    const r = f ? placeRanks({ nodes, held: heldOf(taken), flavor: f, count: job.nodeCount, pool: input.pool }) : null;
    if (r && !r.ok) words.push(r.reason);
    // Room on the hosts, but not in the pool's configured share.
    else if (short.length) words.push(`needs ${short.map((s) => `${s.need} ${s.resource} (${s.free} free)`).join(', ')}`);
  } else if (short.length) words.push(`needs ${short.map((s) => `${s.need} ${s.resource} (${s.free} free)`).join(', ')}`);
  const runningN = holders.length;
  const queuedN = index;
  if (runningN) words.push(`${runningN} running job${runningN === 1 ? ' holds' : 's hold'} the pool`);
  if (queuedN) words.push(`${queuedN} queued job${queuedN === 1 ? ' starts' : 's start'} first`);
  // Starting as its backoff ends says no more than the backoff's words.
  if (estimate !== null && estimate > nowMs && !(inBackoff && estimate === backoffEnd))
    words.push(`starts by ${new Date(estimate).toISOString()} at the latest (from the max runtimes ahead)`);
  else if (estimate === null) words.push('no start time can be estimated (a job ahead has no max runtime)');
  return { position, pool: input.pool, short, ahead, estimatedStart: iso(estimate), summary: words.join('; ') };
}
