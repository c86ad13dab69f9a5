import type { Capacity, Flavor, ResourcePool } from '@tc/contracts';

export function flavorLabel(f: Flavor): string {
  const size = `${f.vcpus} vCPU${f.vcpus === 1 ? '' : 's'} | ${f.memoryGiB} GiB${f.gpus > 0 ? ` | ${f.gpus} GPU${f.gpus === 1 ? '' : 's'}` : ''}`;
  return f.label && f.label !== size ? `${f.id} — ${f.label} (${size})` : `${f.id} — ${size}`;
}

/** How many nodes of this flavor fit in what the pool has free right now (0: the job queues). */
export function nodesThatFit(f: Flavor, free: Capacity): number {
  const by = [Math.floor(free.vcpus / f.vcpus), Math.floor(free.memoryGiB / f.memoryGiB)];
  if (f.gpus > 0) by.push(Math.floor(free.gpus / f.gpus));
  return Math.max(0, Math.min(...by));
}

/** The pool's choice after a change: keep type and flavor when the pool has them, else its first. */
export function settle(pool: ResourcePool | undefined, type: string, flavor: string): { type: 'CPU' | 'GPU'; flavor: string } {
  if (!pool) return { type: type === 'GPU' ? 'GPU' : 'CPU', flavor };
  const t = pool.types.find((x) => x === type) ?? pool.types[0] ?? 'CPU';
  const ofType = pool.flavors.filter((f) => f.type === t);
  return { type: t, flavor: ofType.some((f) => f.id === flavor) ? flavor : (ofType[0]?.id ?? '') };
}
