import type { CreateTrainingJobRequest, Flavor, ResourcePool } from '@tc/contracts';
import { InvalidInputError } from '../errors.js';

export const PUBLIC_POOL_ID = 'public';

export interface Capacity {
  vcpus: number;
  memoryGiB: number;
  gpus: number;
}

export interface Placement {
  pool: string;
  flavor: Flavor;
  nodes: number;
}

/** Pools and flavors from configuration; the public pool's capacity is read from the engine. */
export class ResourcePools {
  constructor(
    private readonly flavors: readonly Flavor[],
    private readonly capacity: () => Promise<Capacity>,
    private readonly used: () => Capacity,
  ) {}

  async list(): Promise<ResourcePool[]> {
    const capacity = await this.capacity();
    const used = this.used();
    const types = [...new Set(this.flavors.map((f) => f.type))];
    return [
      {
        id: PUBLIC_POOL_ID,
        name: 'Public resource pool (this host)',
        types,
        flavors: [...this.flavors],
        capacity,
        free: {
          vcpus: Math.max(0, capacity.vcpus - used.vcpus),
          memoryGiB: Math.max(0, +(capacity.memoryGiB - used.memoryGiB).toFixed(2)),
          gpus: Math.max(0, capacity.gpus - used.gpus),
        },
      },
    ];
  }

  flavor(id: string): Flavor | undefined {
    return this.flavors.find((f) => f.id === id);
  }

  /** The placement a request asks for; omitted resources mean the smallest CPU flavor, 1 node. */
  place(resources: CreateTrainingJobRequest['resources']): Placement {
    if (!resources) {
      const smallest = [...this.flavors].filter((f) => f.type === 'CPU').sort((a, b) => a.vcpus - b.vcpus || a.memoryGiB - b.memoryGiB)[0];
      if (!smallest)
        throw new InvalidInputError([{ path: 'resources', message: 'no CPU flavor is configured; choose resources explicitly' }]);
      return { pool: PUBLIC_POOL_ID, flavor: smallest, nodes: 1 };
    }
    const pool = resources.pool || PUBLIC_POOL_ID;
    if (pool !== PUBLIC_POOL_ID) {
      throw new InvalidInputError([{ path: 'resources.pool', message: `unknown resource pool "${pool}"; available: ${PUBLIC_POOL_ID}` }]);
    }
    const flavor = this.flavor(resources.flavor);
    if (!flavor) {
      const ids = this.flavors.map((f) => f.id).join(', ');
      throw new InvalidInputError([{ path: 'resources.flavor', message: `unknown flavor "${resources.flavor}"; available: ${ids}` }]);
    }
    if (flavor.type !== resources.type) {
      throw new InvalidInputError([
        { path: 'resources.type', message: `flavor ${flavor.id} is of type ${flavor.type}, not ${resources.type}` },
      ]);
    }
    if (resources.nodes > 1) {
      // Distributed jobs need the per-job network and multi-node lifecycle, which are not built yet.
      throw new InvalidInputError([
        { path: 'resources.nodes', message: 'distributed training (Compute Nodes > 1) is not supported yet; use 1' },
      ]);
    }
    return { pool, flavor, nodes: resources.nodes };
  }
}
