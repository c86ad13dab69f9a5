import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import type { PoolConfig } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { fits, ResourcePools, type Capacity } from './resource-pools.js';

const flavors: Flavor[] = [
  { id: 'cpu.2u4g', type: 'CPU', vcpus: 2, memoryGiB: 4, gpus: 0, label: '' },
  { id: 'cpu.1u8g', type: 'CPU', vcpus: 1, memoryGiB: 8, gpus: 0, label: '' },
  { id: 'cpu.1u2g', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0, label: '' },
  { id: 'gpu.1', type: 'GPU', vcpus: 1, memoryGiB: 4, gpus: 1, label: '' },
];

const POOLS: PoolConfig[] = [
  { id: 'public', name: 'Public', capacity: null, flavors, network: false },
  { id: 'team', name: 'Team', capacity: { vcpus: 8, memoryGiB: 8, gpus: 2 }, flavors, network: false },
];

async function pools(engine: Capacity | null) {
  const p = new ResourcePools(POOLS, async () => {
    if (!engine) throw new Error('engine down');
    return engine;
  });
  await p.refresh();
  return p;
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

const res = (r: Partial<NonNullable<CreateTrainingJobRequest['resources']>>) => ({
  type: 'CPU' as const,
  flavor: 'cpu.1u2g',
  nodes: 1,
  ...r,
});

describe('ResourcePools.capacityOf', () => {
  it("is the engine's for the public pool, and a dedicated pool's share capped by the engine", async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(p.capacityOf('public')).toEqual({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(p.capacityOf('team')).toEqual({ vcpus: 4, memoryGiB: 8, gpus: 0 });
  });

  it('is unknown until the engine answers, and keeps the last answer when it stops answering', async () => {
    let engine: Capacity | null = null;
    const p = new ResourcePools(POOLS, async () => {
      if (!engine) throw new Error('down');
      return engine;
    });
    await p.refresh();
    expect(p.capacityOf('public')).toBeNull();
    engine = { vcpus: 2, memoryGiB: 2, gpus: 0 };
    await p.refresh();
    engine = null;
    await p.refresh();
    expect(p.capacityOf('public')).toEqual({ vcpus: 2, memoryGiB: 2, gpus: 0 });
  });
});

describe('ResourcePools.place', () => {
  it('places omitted resources on the public pool’s smallest CPU flavor (fewest vCPUs, then least memory) × 1', async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    const placed = p.place(undefined);
    expect({ pool: placed.pool, flavor: placed.flavor.id, nodes: placed.nodes }).toEqual({ pool: 'public', flavor: 'cpu.1u2g', nodes: 1 });
  });

  it("treats pool '' as the public pool", async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(p.place(res({ pool: '' })).pool).toBe('public');
  });

  it('names the field of an unknown pool, an unknown flavor and a wrong type', async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(fieldsOf(() => p.place(res({ pool: 'nope' })))).toEqual([
      { path: 'resources.pool', message: 'unknown resource pool "nope"; available: public, team' },
    ]);
    expect(fieldsOf(() => p.place(res({ flavor: 'nope' }))).map((f) => f.path)).toEqual(['resources.flavor']);
    expect(fieldsOf(() => p.place(res({ type: 'GPU' })))).toEqual([
      { path: 'resources.type', message: 'flavor cpu.1u2g is of type CPU, not GPU' },
    ]);
  });

  it('refuses a GPU flavor in a pool without GPUs at submit', async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(fieldsOf(() => p.place(res({ type: 'GPU', flavor: 'gpu.1' })))[0]!.message).toContain('has no GPUs');
  });

  it('refuses a job bigger than the whole pool (it could never start), naming nodes when there are several', async () => {
    const p = await pools({ vcpus: 4, memoryGiB: 16, gpus: 0 });
    expect(fieldsOf(() => p.place(res({ flavor: 'cpu.2u4g', nodes: 3 })))[0]!.path).toBe('resources.nodes');
    expect(fieldsOf(() => p.place(res({ pool: 'team', flavor: 'cpu.1u8g', nodes: 2 })))[0]!.message).toContain(
      'more than pool team has in all (4 vCPUs, 8 GiB, 0 GPUs)',
    );
    // Exactly the whole pool is accepted: it starts once the pool is empty.
    expect(p.place(res({ flavor: 'cpu.2u4g', nodes: 2 })).nodes).toBe(2);
  });

  it('accepts any size while the engine capacity is unknown (the scheduler and runner deal with it)', async () => {
    const p = await pools(null);
    expect(p.place(res({ flavor: 'cpu.2u4g', nodes: 16 })).nodes).toBe(16);
    expect(p.place(res({ type: 'GPU', flavor: 'gpu.1' })).flavor.id).toBe('gpu.1');
  });
});

describe('fits', () => {
  it('needs every dimension to fit, and absorbs float sums of GiB', () => {
    const total = { vcpus: 4, memoryGiB: 1, gpus: 1 };
    expect(fits({ vcpus: 4, memoryGiB: 0.1 + 0.2, gpus: 0 }, total, { vcpus: 0, memoryGiB: 0.7, gpus: 1 })).toBe(true);
    expect(fits({ vcpus: 1, memoryGiB: 0, gpus: 0 }, total, { vcpus: 4, memoryGiB: 0, gpus: 0 })).toBe(false);
    expect(fits({ vcpus: 0, memoryGiB: 0, gpus: 1 }, total, { vcpus: 0, memoryGiB: 0, gpus: 1 })).toBe(false);
  });
});
