import type { CreateTrainingJobRequest, Flavor, ResourcePool } from '@tc/contracts';
import type { PoolConfig } from '../config.js';
import { InvalidInputError } from '../errors.js';
import type { EngineNode } from './container-engine.js';
import { placeRanks, poolOfNode, readyCapacity } from './placement.js';

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

export const NO_CAPACITY: Capacity = { vcpus: 0, memoryGiB: 0, gpus: 0 };

/** flavor × nodes, what a job holds while it has containers. */
export function demand(flavor: Flavor, nodes: number): Capacity {
  return { vcpus: flavor.vcpus * nodes, memoryGiB: flavor.memoryGiB * nodes, gpus: flavor.gpus * nodes };
}

export function addCapacity(a: Capacity, b: Capacity): Capacity {
  return { vcpus: a.vcpus + b.vcpus, memoryGiB: a.memoryGiB + b.memoryGiB, gpus: a.gpus + b.gpus };
}

/** Whether `need` fits in `total` minus `used`; a small epsilon absorbs float sums of GiB. */
export function fits(need: Capacity, total: Capacity, used: Capacity = NO_CAPACITY): boolean {
  const eps = 1e-9;
  return (
    used.vcpus + need.vcpus <= total.vcpus + eps &&
    used.memoryGiB + need.memoryGiB <= total.memoryGiB + eps &&
    used.gpus + need.gpus <= total.gpus + eps
  );
}

function describe(c: Capacity): string {
  return `${+c.vcpus.toFixed(2)} vCPUs, ${+c.memoryGiB.toFixed(2)} GiB, ${c.gpus} GPUs`;
}

export interface ResourcePoolsOptions {
  /**
   * A multi-host engine (swarm): its nodes. A pool is then the nodes labelled `tc.pool=<id>`
   * (the public pool: the unlabelled ones) and its capacity is what its ready nodes have.
   */
  readNodes?: () => Promise<EngineNode[]>;
}

/**
 * Pools and flavors from configuration. On a single engine, the public pool's capacity is the
 * engine's (read at start and on every listing) and a dedicated pool has a configured share,
 * never more than the engine has. On a multi-host engine a pool is its labelled nodes, and a
 * configured share caps what the pool's jobs take of them in sum, as on a single engine.
 */
export class ResourcePools {
  private engineCapacity: Capacity | null = null;
  /** Multi-host: the engine's nodes as last read; null until it has answered once. */
  private engineNodes: EngineNode[] | null = null;
  private readonly readNodes: (() => Promise<EngineNode[]>) | null;

  constructor(
    private readonly pools: readonly PoolConfig[],
    private readonly readEngineCapacity: () => Promise<Capacity>,
    options: ResourcePoolsOptions = {},
  ) {
    this.readNodes = options.readNodes ?? null;
  }

  /** Whether pools are sets of hosts of a multi-host engine (placement is per node). */
  get multiHost(): boolean {
    return this.readNodes !== null;
  }

  /** Reads the engine's capacity (or nodes); keeps the last known value when the engine does not answer. */
  async refresh(): Promise<void> {
    try {
      if (this.readNodes) this.engineNodes = await this.readNodes();
      else this.engineCapacity = await this.readEngineCapacity();
    } catch {
      // Unknown capacity only relaxes the submit-time "could never fit" check.
    }
  }

  /** Multi-host: the pool's nodes, ready or not; null on a single engine or until the engine has answered. */
  nodesOf(poolId: string): EngineNode[] | null {
    if (!this.engineNodes || !this.pool(poolId)) return null;
    const ids = this.ids();
    return this.engineNodes.filter((n) => poolOfNode(n, ids) === poolId);
  }

  /** null until the engine has answered once. */
  capacityOf(poolId: string): Capacity | null {
    const pool = this.pool(poolId);
    const nodes = this.readNodes ? this.nodesOf(poolId) : null;
    const total = this.readNodes ? nodes && readyCapacity(nodes) : this.engineCapacity;
    if (!pool || !total) return null;
    if (!pool.capacity) return total;
    return {
      vcpus: Math.min(pool.capacity.vcpus, total.vcpus),
      memoryGiB: Math.min(pool.capacity.memoryGiB, total.memoryGiB),
      gpus: Math.min(pool.capacity.gpus, total.gpus),
    };
  }

  pool(id: string): PoolConfig | undefined {
    return this.pools.find((p) => p.id === id);
  }

  ids(): string[] {
    return this.pools.map((p) => p.id);
  }

  flavor(poolId: string, flavorId: string): Flavor | undefined {
    return this.pool(poolId)?.flavors.find((f) => f.id === flavorId);
  }

  async list(usage: (poolId: string) => { used: Capacity; queued: number }): Promise<ResourcePool[]> {
    await this.refresh();
    return this.pools.map((p) => {
      const capacity = this.capacityOf(p.id) ?? NO_CAPACITY;
      const { used, queued } = usage(p.id);
      return {
        id: p.id,
        name: p.name,
        types: [...new Set(p.flavors.map((f) => f.type))],
        flavors: [...p.flavors],
        capacity: { ...capacity, memoryGiB: +capacity.memoryGiB.toFixed(2) },
        free: {
          vcpus: Math.max(0, +(capacity.vcpus - used.vcpus).toFixed(2)),
          memoryGiB: Math.max(0, +(capacity.memoryGiB - used.memoryGiB).toFixed(2)),
          gpus: Math.max(0, capacity.gpus - used.gpus),
        },
        queued,
      };
    });
  }

  /**
   * The placement a request asks for, or a 400 naming the field: unknown pool or flavor, a type
   * the flavor is not, GPUs the pool does not have, or a job bigger than the whole pool (it could
   * never start, so it is not queued). Omitted resources mean the public pool's smallest CPU
   * flavor, 1 node.
   */
  place(resources: CreateTrainingJobRequest['resources']): Placement {
    if (!resources) {
      const pub = this.pool(PUBLIC_POOL_ID) ?? this.pools[0]!;
      const smallest = pub.flavors.filter((f) => f.type === 'CPU').sort((a, b) => a.vcpus - b.vcpus || a.memoryGiB - b.memoryGiB)[0];
      if (!smallest)
        throw new InvalidInputError([{ path: 'resources', message: 'no CPU flavor is configured; choose resources explicitly' }]);
      return this.checkFits({ pool: pub.id, flavor: smallest, nodes: 1 });
    }
    const poolId = resources.pool || PUBLIC_POOL_ID;
    const pool = this.pool(poolId);
    if (!pool) {
      throw new InvalidInputError([
        { path: 'resources.pool', message: `unknown resource pool "${poolId}"; available: ${this.ids().join(', ')}` },
      ]);
    }
    const flavor = this.flavor(poolId, resources.flavor);
    if (!flavor) {
      const ids = pool.flavors.map((f) => f.id).join(', ');
      throw new InvalidInputError([
        { path: 'resources.flavor', message: `unknown flavor "${resources.flavor}" in pool ${poolId}; available: ${ids}` },
      ]);
    }
    if (flavor.type !== resources.type) {
      throw new InvalidInputError([
        { path: 'resources.type', message: `flavor ${flavor.id} is of type ${flavor.type}, not ${resources.type}` },
      ]);
    }
    const capacity = this.capacityOf(poolId);
    if (flavor.gpus > 0 && capacity && capacity.gpus === 0) {
      throw new InvalidInputError([
        {
          path: 'resources.flavor',
          message: `flavor ${flavor.id} needs ${flavor.gpus} GPU(s), but pool ${poolId} has no GPUs; choose a CPU flavor`,
        },
      ]);
    }
    return this.checkFits({ pool: poolId, flavor, nodes: resources.nodes });
  }

  private checkFits(p: Placement): Placement {
    if (this.readNodes) this.checkPlaceable(p);
    const capacity = this.capacityOf(p.pool);
    const need = demand(p.flavor, p.nodes);
    if (capacity && !fits(need, capacity)) {
      throw new InvalidInputError([
        {
          path: p.nodes > 1 ? 'resources.nodes' : 'resources.flavor',
          message: `${p.flavor.id} × ${p.nodes} node(s) needs ${describe(need)}, more than pool ${p.pool} has in all (${describe(capacity)}); it could never start`,
        },
      ]);
    }
    return p;
  }

  /**
   * Multi-host: a job could never start when its pool has fewer ready nodes than it has ranks,
   * or when fewer nodes than that have room for its flavor even with nothing else running.
   */
  private checkPlaceable(p: Placement): void {
    const nodes = this.nodesOf(p.pool);
    if (!nodes) return;
    const r = placeRanks({ nodes, held: new Map(), flavor: p.flavor, count: p.nodes, pool: p.pool });
    if (r.ok) return;
    const ready = nodes.filter((n) => n.ready).length;
    const fitsOne = nodes.some((n) => n.ready && fits(p.flavor, n));
    const path = ready < p.nodes ? (p.nodes > 1 ? 'resources.nodes' : 'resources.pool') : fitsOne ? 'resources.nodes' : 'resources.flavor';
    throw new InvalidInputError([{ path, message: `${p.flavor.id} × ${p.nodes} node(s): ${r.reason}; it cannot start` }]);
  }
}
