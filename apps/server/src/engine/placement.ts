import type { Flavor } from '@tc/contracts';
import type { EngineNode } from './container-engine.js';
import type { Capacity } from './resource-pools.js';

/** The node label that gives a host of a multi-host engine to one pool. */
export const POOL_LABEL = 'tc.pool';

/** The pool of unlabelled nodes; the same id as resource-pools' PUBLIC_POOL_ID (kept apart to avoid an import cycle). */
const PUBLIC_POOL = 'public';

/**
 * The pool a node serves: the one its `tc.pool` label names, the public pool when it has none,
 * and none (null) when the label names a pool the configuration does not have: a typo must not
 * hand a team's host to everyone.
 */
export function poolOfNode(node: Pick<EngineNode, 'labels'>, poolIds: readonly string[]): string | null {
  const label = node.labels[POOL_LABEL];
  if (label === undefined) return poolIds.includes(PUBLIC_POOL) ? PUBLIC_POOL : null;
  return poolIds.includes(label) ? label : null;
}

export interface PlaceRanksInput {
  /** The pool's nodes, ready or not. */
  nodes: readonly EngineNode[];
  /** What the jobs holding resources reserve on each node (by EngineNode id). */
  held: ReadonlyMap<string, Capacity>;
  flavor: Pick<Flavor, 'vcpus' | 'memoryGiB' | 'gpus'>;
  count: number;
  /** For the reason in words. */
  pool?: string;
}

export type PlaceRanksResult = { ok: true; nodes: EngineNode[] } | { ok: false; reason: string };

const EPS = 1e-9;
const round = (n: number): number => +n.toFixed(2);
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function freeOn(node: EngineNode, held: ReadonlyMap<string, Capacity>): Capacity {
  const h = held.get(node.id);
  if (!h) return { vcpus: node.vcpus, memoryGiB: node.memoryGiB, gpus: node.gpus };
  return { vcpus: node.vcpus - h.vcpus, memoryGiB: node.memoryGiB - h.memoryGiB, gpus: node.gpus - h.gpus };
}

/** What the flavor needs in words: GPUs only when it has some. */
export function describeFlavor(f: Pick<Flavor, 'vcpus' | 'memoryGiB' | 'gpus'>): string {
  const parts = [plural(round(f.vcpus), 'vCPU'), `${round(f.memoryGiB)} GiB`];
  if (f.gpus > 0) parts.push(plural(f.gpus, 'GPU'));
  return parts.join(', ');
}

/**
 * All or nothing: every rank of a job on a different ready node of the pool with room for the
 * flavor beside what is held there, or no placement and what is short, in words. Most free room
 * first spreads jobs over the hosts; a CPU job takes hosts without GPUs before hosts with GPUs,
 * which it would otherwise keep from the jobs that need them. Ties go by hostname, then id, so
 * the same state always gives the same placement.
 */
export function placeRanks(input: PlaceRanksInput): PlaceRanksResult {
  const { nodes, held, flavor, count } = input;
  const where = input.pool ? ` in pool ${input.pool}` : '';
  if (count <= 0) return { ok: true, nodes: [] };
  const ready = nodes.filter((n) => n.ready);
  if (ready.length < count) {
    const ofAll = nodes.length > ready.length ? ` (of ${nodes.length})` : '';
    const what = ready.length === 0 ? `has no ready nodes${ofAll}` : `has only ${plural(ready.length, 'ready node')}${ofAll}`;
    return {
      ok: false,
      reason: `${input.pool ? `pool ${input.pool}` : 'the engine'} ${what}; the job needs ${count === 1 ? '1 node' : `${count} nodes on different hosts`}`,
    };
  }
  const shortBy = { vcpus: 0, memoryGiB: 0, gpus: 0 };
  const room: { node: EngineNode; free: Capacity }[] = [];
  for (const node of ready) {
    const free = freeOn(node, held);
    const short = {
      vcpus: flavor.vcpus > free.vcpus + EPS,
      memoryGiB: flavor.memoryGiB > free.memoryGiB + EPS,
      gpus: flavor.gpus > free.gpus + EPS,
    };
    if (short.vcpus) shortBy.vcpus++;
    if (short.memoryGiB) shortBy.memoryGiB++;
    if (short.gpus) shortBy.gpus++;
    if (!short.vcpus && !short.memoryGiB && !short.gpus) room.push({ node, free });
  }
  if (room.length < count) {
    const shorts = [
      shortBy.vcpus && `vCPUs short on ${plural(shortBy.vcpus, 'node')}`,
      shortBy.memoryGiB && `memory short on ${plural(shortBy.memoryGiB, 'node')}`,
      shortBy.gpus && `GPUs short on ${plural(shortBy.gpus, 'node')}`,
    ].filter(Boolean);
    const has = room.length === 0 ? 'none has room' : `${room.length} ${room.length === 1 ? 'has' : 'have'} room`;
    return {
      ok: false,
      reason: `needs ${plural(count, 'node')} with ${describeFlavor(flavor)} free${where}; ${has} (${shorts.join(', ')})`,
    };
  }
  room.sort(
    (a, b) =>
      (flavor.gpus === 0 ? a.node.gpus - b.node.gpus : b.free.gpus - a.free.gpus) ||
      b.free.vcpus - a.free.vcpus ||
      b.free.memoryGiB - a.free.memoryGiB ||
      a.node.hostname.localeCompare(b.node.hostname) ||
      a.node.id.localeCompare(b.node.id),
  );
  return { ok: true, nodes: room.slice(0, count).map((r) => r.node) };
}

/** `held` with `flavor` added on each of `nodeIds` (one rank per node); a new map. */
export function holdOn(
  held: ReadonlyMap<string, Capacity>,
  nodeIds: readonly string[],
  flavor: Pick<Flavor, 'vcpus' | 'memoryGiB' | 'gpus'>,
): Map<string, Capacity> {
  const out = new Map(held);
  for (const id of nodeIds) {
    const h = out.get(id) ?? { vcpus: 0, memoryGiB: 0, gpus: 0 };
    out.set(id, { vcpus: h.vcpus + flavor.vcpus, memoryGiB: h.memoryGiB + flavor.memoryGiB, gpus: h.gpus + flavor.gpus });
  }
  return out;
}

/** The sum of the ready nodes' resources: a multi-host pool's capacity. */
export function readyCapacity(nodes: readonly EngineNode[]): Capacity {
  const c = { vcpus: 0, memoryGiB: 0, gpus: 0 };
  for (const n of nodes) {
    if (!n.ready) continue;
    c.vcpus += n.vcpus;
    c.memoryGiB += n.memoryGiB;
    c.gpus += n.gpus;
  }
  return c;
}
