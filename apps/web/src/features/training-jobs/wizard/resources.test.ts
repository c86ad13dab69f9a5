import { describe, expect, it } from 'vitest';
import type { Flavor, ResourcePool } from '@tc/contracts';
import { flavorLabel, nodesThatFit, settle } from './resources';

const cpu = (id: string, vcpus: number, memoryGiB: number): Flavor => ({ id, type: 'CPU', vcpus, memoryGiB, gpus: 0 });
const gpu: Flavor = { id: 'gpu.1', type: 'GPU', vcpus: 8, memoryGiB: 64, gpus: 1, label: '1 GPU' };
const pool: ResourcePool = {
  id: 'team',
  name: 'Team',
  types: ['CPU', 'GPU'],
  flavors: [cpu('cpu.2u4g', 2, 4), cpu('cpu.4u8g', 4, 8), gpu],
  capacity: { vcpus: 16, memoryGiB: 128, gpus: 2 },
  free: { vcpus: 9, memoryGiB: 20, gpus: 1 },
  queued: 0,
};

describe('resources', () => {
  it('counts how many nodes fit in the free capacity, limited by the scarcest resource', () => {
    expect(nodesThatFit(cpu('a', 2, 4), pool.free)).toBe(4);
    expect(nodesThatFit(cpu('b', 4, 8), pool.free)).toBe(2);
    expect(nodesThatFit(gpu, pool.free)).toBe(0);
    expect(nodesThatFit(gpu, { vcpus: 16, memoryGiB: 128, gpus: 1 })).toBe(1);
  });

  it('keeps type and flavor when the pool has them, else takes its first of the type', () => {
    expect(settle(pool, 'CPU', 'cpu.4u8g')).toEqual({ type: 'CPU', flavor: 'cpu.4u8g' });
    expect(settle(pool, 'GPU', 'cpu.4u8g')).toEqual({ type: 'GPU', flavor: 'gpu.1' });
    const cpuOnly = { ...pool, types: ['CPU' as const], flavors: [cpu('cpu.2u4g', 2, 4)] };
    expect(settle(cpuOnly, 'GPU', 'gpu.1')).toEqual({ type: 'CPU', flavor: 'cpu.2u4g' });
  });

  it('labels a flavor with its size', () => {
    expect(flavorLabel(cpu('cpu.2u8g', 2, 8))).toBe('cpu.2u8g — 2 vCPUs | 8 GiB');
    expect(flavorLabel(gpu)).toBe('gpu.1 — 1 GPU (8 vCPUs | 64 GiB | 1 GPU)');
  });
});
