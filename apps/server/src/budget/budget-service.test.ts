import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, Flavor } from '@tc/contracts';
import { tempDatabase } from '../../test/support/temp-database.js';
import { JobRepository } from '../jobs/job-repository.js';
import { PaymentRequiredError } from '../errors.js';
import { BudgetRepository } from './budget-repository.js';
import { BudgetService } from './budget-service.js';

const FLAVORS: Record<string, Flavor> = {
  'cpu.2u': { id: 'cpu.2u', type: 'CPU', vcpus: 2, memoryGiB: 4, gpus: 0, label: '' },
  'gpu.1': { id: 'gpu.1', type: 'GPU', vcpus: 1, memoryGiB: 8, gpus: 1, label: '' },
};

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (hours: number) => new Date(T0 + hours * 3_600_000).toISOString();

/** A budget over real tables, metering through the repository's transition listener, on a clock the test moves. */
function setUp(opts: { limit: number | null; gpuHourWeight?: number }) {
  const db = tempDatabase();
  const jobs = new JobRepository(db);
  const usage = new BudgetRepository(db);
  let clock = T0;
  const warnings: string[] = [];
  const budget = new BudgetService({
    usage,
    flavor: (_pool, id) => FLAVORS[id],
    limitCoreHours: opts.limit,
    gpuHourWeight: opts.gpuHourWeight ?? 1,
    now: () => new Date(clock),
    log: { warn: (_obj, msg) => void warnings.push(msg) },
  });
  jobs.onTransition((t) => budget.onTransition(t));

  const submit = (flavorId: string, nodes = 1) =>
    jobs.createWithNextVersion({
      name: 'j',
      description: null,
      spec: { name: 'j' } as CreateTrainingJobRequest,
      poolId: 'public',
      flavorId,
      nodeCount: nodes,
      hostnames: () => [],
      createdAt: at(0),
      ownerId: 1,
    }).id;
  const start = (id: number, hour: number) => {
    jobs.transition(id, 'Queuing', 'Initializing');
    jobs.transition(id, 'Initializing', 'Running', { startedAt: at(hour) });
  };
  const end = (id: number, hour: number) => jobs.transition(id, 'Running', 'Successful', { endedAt: at(hour) });
  return { db, jobs, usage, budget, submit, start, end, warnings, setClock: (hours: number) => (clock = T0 + hours * 3_600_000) };
}

describe('BudgetService: metering on transitions', () => {
  it('charges vCPUs × nodes × hours from start to end', () => {
    const { budget, submit, start, end, setClock } = setUp({ limit: 100 });
    const id = submit('cpu.2u', 3);
    start(id, 1);
    end(id, 3);
    setClock(10); // long after: an ended run no longer grows
    expect(budget.summary()).toMatchObject({ usedCoreHours: 12, balanceCoreHours: 88, inArrears: false });
  });

  it('charges a running job up to now, on the clock', () => {
    const { budget, submit, start, setClock } = setUp({ limit: 100 });
    start(submit('cpu.2u'), 0);
    setClock(1.5);
    expect(budget.summary().usedCoreHours).toBe(3);
    setClock(2);
    expect(budget.summary().usedCoreHours).toBe(4);
  });

  it('charges nothing for a job that never started (stopped while queuing)', () => {
    const { budget, jobs, submit, setClock } = setUp({ limit: 100 });
    const id = submit('cpu.2u');
    jobs.transition(id, 'Queuing', 'Stopped', { endedAt: at(1) });
    setClock(5);
    expect(budget.summary()).toMatchObject({ usedCoreHours: 0, jobs: [] });
  });

  it('weighs GPU-hours by the configured weight', () => {
    const { budget, submit, start, end } = setUp({ limit: 100, gpuHourWeight: 10 });
    const id = submit('gpu.1', 2);
    start(id, 0);
    end(id, 1);
    // 1 h × 2 nodes × (1 vCPU + 1 GPU × 10)
    expect(budget.summary().usedCoreHours).toBe(22);
  });

  it('does not refund a deleted job', () => {
    const { budget, jobs, submit, start, end } = setUp({ limit: 100 });
    const id = submit('cpu.2u');
    start(id, 0);
    end(id, 1);
    jobs.delete(id);
    expect(budget.summary().usedCoreHours).toBe(2);
  });

  it('catches up, at reconcile, on a run no listener saw, metering an unconfigured flavor as 0 with a warning', () => {
    const { db, budget, submit, warnings } = setUp({ limit: 100 });
    const known = submit('cpu.2u');
    const gone = submit('removed');
    // Written behind the service's back, as a job from before metering would be.
    db.prepare("UPDATE jobs SET status = 'Successful', started_at = ?, ended_at = ? WHERE id IN (?, ?)").run(at(0), at(1), known, gone);
    expect(budget.summary().usedCoreHours).toBe(0);
    budget.reconcile();
    expect(budget.summary().usedCoreHours).toBe(2);
    expect(budget.summary().jobs).toHaveLength(2);
    expect(warnings).toEqual(['budget: the flavor of a past job is no longer configured; metered as 0 vCPUs']);
  });
});

describe('BudgetService: the arrears rule', () => {
  it('is in arrears once the balance reaches 0 (not only below it), and refuses new jobs with PaymentRequiredError', () => {
    const { budget, submit, start, setClock } = setUp({ limit: 4 });
    start(submit('cpu.2u'), 0);
    setClock(1.999);
    expect(budget.summary().inArrears).toBe(false);
    expect(() => budget.check()).not.toThrow();
    setClock(2); // exactly 4 core-hours used: balance 0
    expect(budget.summary()).toMatchObject({ balanceCoreHours: 0, inArrears: true });
    expect(() => budget.check()).toThrow(PaymentRequiredError);
    expect(() => budget.check()).toThrow('the account is in arrears: 4 of its 4 core-hour budget are used (balance 0)');
  });

  it('keeps counting past the limit: running jobs are not stopped, the balance goes negative', () => {
    const { budget, submit, start, setClock } = setUp({ limit: 1 });
    start(submit('cpu.2u'), 0);
    setClock(3);
    expect(budget.summary()).toMatchObject({ usedCoreHours: 6, balanceCoreHours: -5, inArrears: true });
  });

  it('is never in arrears without a limit', () => {
    const { budget, submit, start, setClock } = setUp({ limit: null });
    start(submit('cpu.2u', 16), 0);
    setClock(1000);
    expect(budget.summary()).toMatchObject({ limitCoreHours: null, balanceCoreHours: null, inArrears: false });
    expect(() => budget.check()).not.toThrow();
  });

  it('is in arrears from the start with a budget of 0', () => {
    const { budget } = setUp({ limit: 0 });
    expect(() => budget.check()).toThrow(PaymentRequiredError);
  });
});
