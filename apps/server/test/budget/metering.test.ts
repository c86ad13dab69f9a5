import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import { openDatabase } from '../../src/db/database.js';
import { BudgetRepository } from '../../src/budget/budget-repository.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { BudgetService } from '../../src/budget/budget-service.js';
import { loadConfig } from '../../src/config.js';
import { PaymentRequiredError } from '../../src/errors.js';

// The metering over a real (in-memory) SQLite, with a clock of its own; no engine.

const flavors: Record<string, Flavor> = {
  'cpu.2': { id: 'cpu.2', type: 'CPU', vcpus: 2, memoryGiB: 4, gpus: 0 },
  'gpu.1': { id: 'gpu.1', type: 'GPU', vcpus: 4, memoryGiB: 16, gpus: 1 },
};

function setup(limitCoreHours: number | null, t0 = Date.parse('2026-01-01T00:00:00.000Z')) {
  const db = openDatabase(':memory:');
  const jobs = new JobRepository(db);
  let now = t0;
  const lookup: { f: (pool: string, id: string) => Flavor | undefined } = { f: (_p, id) => flavors[id] };
  const warnings: object[] = [];
  const service = new BudgetService({
    usage: new BudgetRepository(db),
    flavor: (p, id) => lookup.f(p, id),
    limitCoreHours,
    gpuHourWeight: 10,
    now: () => new Date(now),
    log: { warn: (o) => warnings.push(o) },
  });
  jobs.onTransition((t) => service.onTransition(t));
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const create = (name: string, flavorId: string, nodes = 1) =>
    jobs.createWithNextVersion({
      name,
      description: null,
      spec: {} as CreateTrainingJobRequest,
      poolId: 'public',
      flavorId,
      nodeCount: nodes,
      hostnames: () => Array.from({ length: nodes }, (_, i) => `${name}-${i}`),
      createdAt: at(0),
      ownerId: 1,
    });
  const run = (id: number, startMs: number) => {
    jobs.transition(id, 'Queuing', 'Initializing');
    jobs.transition(id, 'Initializing', 'Running', { startedAt: at(startMs) });
  };
  const end = (id: number, endMs: number) => jobs.transition(id, 'Running', 'Successful', { endedAt: at(endMs) });
  return { db, jobs, service, lookup, warnings, create, run, end, setNow: (ms: number) => (now = t0 + ms) };
}

const HOUR = 3_600_000;

describe('budget metering', () => {
  it('charges run time × nodes × (vCPUs + GPUs × weight), live while running', () => {
    const s = setup(100);
    const cpu = s.create('cpu', 'cpu.2', 3);
    const gpu = s.create('gpu', 'gpu.1', 1);
    s.run(cpu.id, 0);
    s.run(gpu.id, 0);
    s.setNow(HOUR / 2);
    // cpu: 0.5 h × 3 × 2 = 3; gpu: 0.5 h × 1 × (4 + 1 × 10) = 7
    expect(s.service.summary()).toMatchObject({ usedCoreHours: 10, balanceCoreHours: 90, inArrears: false });
    s.end(cpu.id, HOUR);
    s.setNow(2 * HOUR);
    // cpu stopped at 1 h: 6; gpu still running at 2 h: 28
    const b = s.service.summary();
    expect(b.usedCoreHours).toBe(34);
    expect(b.jobs.map((j) => [j.name, j.coreHours, j.hours])).toEqual([
      ['gpu', 28, 2],
      ['cpu', 6, 1],
    ]);
  });

  it('keeps the flavor a job ran with when the configuration changes later', () => {
    const s = setup(null);
    const j = s.create('a', 'cpu.2');
    s.run(j.id, 0);
    s.end(j.id, HOUR);
    s.lookup.f = () => ({ id: 'cpu.2', type: 'CPU', vcpus: 64, memoryGiB: 4, gpus: 0 });
    expect(s.service.summary()).toMatchObject({ usedCoreHours: 2, limitCoreHours: null, balanceCoreHours: null, inArrears: false });
  });

  it('refuses with PaymentRequiredError at a balance of 0 or below, never without a limit', () => {
    expect(() => setup(0).service.check()).toThrow(PaymentRequiredError);
    expect(() => setup(null).service.check()).not.toThrow();
    const s = setup(1);
    const j = s.create('a', 'cpu.2');
    s.run(j.id, 0);
    s.setNow(HOUR / 4);
    expect(() => s.service.check()).not.toThrow();
    s.setNow(HOUR / 2);
    expect(() => s.service.check()).toThrow(/account is in arrears: 1 of its 1 core-hour budget are used \(balance 0\)/);
  });

  it('catches up at start on runs it never saw, and closes runs whose job ended unseen', () => {
    const s = setup(null);
    const seen = s.create('seen', 'cpu.2');
    s.run(seen.id, 0);
    const unseen = s.create('unseen', 'cpu.2');
    // A repository without the listener, as in a process that had no metering yet.
    const bare = new JobRepository(s.db);
    bare.transition(unseen.id, 'Queuing', 'Initializing');
    bare.transition(unseen.id, 'Initializing', 'Running', { startedAt: new Date(Date.parse('2026-01-01T00:00:00.000Z')).toISOString() });
    bare.transition(unseen.id, 'Running', 'Successful', { endedAt: new Date(Date.parse('2026-01-01T01:00:00.000Z')).toISOString() });
    bare.transition(seen.id, 'Running', 'Stopping');
    bare.transition(seen.id, 'Stopping', 'Stopped', { endedAt: new Date(Date.parse('2026-01-01T00:30:00.000Z')).toISOString() });
    s.setNow(10 * HOUR);
    s.service.reconcile();
    const b = s.service.summary();
    expect(b.jobs.map((j) => [j.name, j.coreHours])).toEqual([
      ['unseen', 2],
      ['seen', 1],
    ]);
  });
});

describe('budget configuration', () => {
  it('reads BUDGET_CORE_HOURS (unset or empty: unlimited) and GPU_HOUR_WEIGHT (default 10)', () => {
    expect(loadConfig({}).budget).toEqual({ limitCoreHours: null, gpuHourWeight: 10 });
    expect(loadConfig({ BUDGET_CORE_HOURS: '' }).budget.limitCoreHours).toBeNull();
    expect(loadConfig({ BUDGET_CORE_HOURS: '12.5', GPU_HOUR_WEIGHT: '4' }).budget).toEqual({ limitCoreHours: 12.5, gpuHourWeight: 4 });
    expect(() => loadConfig({ BUDGET_CORE_HOURS: 'lots' })).toThrow(/BUDGET_CORE_HOURS/);
    expect(() => loadConfig({ GPU_HOUR_WEIGHT: '-1' })).toThrow(/GPU_HOUR_WEIGHT/);
  });
});
