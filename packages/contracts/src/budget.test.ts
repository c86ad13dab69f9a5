import { describe, expect, it } from 'vitest';
import { budgetShortfall, estimateCoreHours } from './budget.js';

describe('estimateCoreHours', () => {
  it('is nodes × (vCPUs + GPUs × weight) × max running time in hours', () => {
    expect(estimateCoreHours({ vcpus: 2, gpus: 0, nodes: 3, maxRuntimeMinutes: 90, gpuHourWeight: 10 })).toBe(9);
    expect(estimateCoreHours({ vcpus: 8, gpus: 1, nodes: 2, maxRuntimeMinutes: 60, gpuHourWeight: 10 })).toBe(36);
  });

  it('has no estimate without a max running time', () => {
    expect(estimateCoreHours({ vcpus: 2, gpus: 0, nodes: 1, gpuHourWeight: 10 })).toBeNull();
  });
});

describe('budgetShortfall', () => {
  it('refuses an estimate above the balance, naming both', () => {
    expect(budgetShortfall(3, 2)).toMatch(/^the job may use up to 3 core-hours but the budget's balance is 2;/);
  });

  it('lets through an estimate the balance covers, no estimate, no limit, and leaves arrears to the arrears rule', () => {
    expect(budgetShortfall(2, 2)).toBeNull();
    expect(budgetShortfall(null, 2)).toBeNull();
    expect(budgetShortfall(5, null)).toBeNull();
    expect(budgetShortfall(5, 0)).toBeNull();
  });
});
