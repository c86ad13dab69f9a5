import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import type { Budget, ResourcePoolList, TrainingJob, TrainingJobList } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { CreateTrainingJobPage } from './CreateTrainingJobPage';
import { costOf } from './costEstimate';
import { EMPTY_VALUES } from './values';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const pool = {
  id: 'public',
  name: 'Public resource pool (this host)',
  types: ['CPU', 'GPU'] as ('CPU' | 'GPU')[],
  flavors: [
    { id: 'cpu.2u4g', type: 'CPU' as const, vcpus: 2, memoryGiB: 4, gpus: 0 },
    { id: 'gpu.8u1g', type: 'GPU' as const, vcpus: 8, memoryGiB: 32, gpus: 1 },
  ],
  capacity: { vcpus: 16, memoryGiB: 64, gpus: 2 },
  free: { vcpus: 16, memoryGiB: 64, gpus: 2 },
  queued: 0,
};
const pools: ResourcePoolList = { items: [pool] };
const budget = (balance: number | null): Budget => ({
  limitCoreHours: balance === null ? null : 100,
  usedCoreHours: balance === null ? 0 : 100 - balance,
  balanceCoreHours: balance,
  inArrears: balance !== null && balance <= 0,
  gpuHourWeight: 10,
  asOf: '2026-12-01T10:00:00.000Z',
  jobs: [],
});

describe('costOf', () => {
  const values = (flavor: string, nodes: number, maxRuntimeMinutes: number | '') => ({
    resources: { ...EMPTY_VALUES.resources, pool: 'public', flavor, nodes },
    maxRuntimeMinutes,
  });

  it('counts nodes × vCPUs (GPUs weighted as the budget does) × max running time', () => {
    expect(costOf(values('cpu.2u4g', 3, 90), [pool], budget(50)).coreHours).toBe(9);
    expect(costOf(values('gpu.8u1g', 2, 60), [pool], budget(50)).coreHours).toBe(36);
  });

  it('has no estimate without a max running time, and refuses only what the balance cannot cover', () => {
    expect(costOf(values('cpu.2u4g', 1, ''), [pool], budget(1))).toMatchObject({ coreHours: null, refusal: null });
    expect(costOf(values('cpu.2u4g', 1, 60), [pool], budget(2)).refusal).toBeNull();
    expect(costOf(values('cpu.2u4g', 1, 61), [pool], budget(2)).refusal).toMatch(/may use up to 2\.033 core-hours/);
    expect(costOf(values('cpu.2u4g', 100, 600), [pool], budget(null)).refusal).toBeNull();
  });
});

const job: TrainingJob = {
  id: '1',
  name: 'linreg',
  version: 'V001',
  status: 'Successful',
  reason: null,
  queuePosition: null,
  spec: {
    name: 'linreg',
    algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
    data: { source: 'path', path: 'obs://demo/data/' },
    trainOutput: 'obs://demo/output/',
    env: [],
    maxRuntimeMinutes: 90,
    resources: { pool: 'public', type: 'CPU', flavor: 'cpu.2u4g', nodes: 2 },
  },
  createdAt: '2025-11-28T10:00:00.000Z',
  startedAt: null,
  endedAt: null,
  nodes: [],
  events: [],
};
const versions: TrainingJobList = { items: [{ ...job, flavor: 'cpu.2u4g', nodes: 2, version: 'V001' }], total: 1 };
const emptyList = () => json({ items: [], total: 0 });

async function toConfirm(balance: number | null) {
  const calls = routeFetch({
    'GET /api/v1/training-jobs/linreg/versions/V001': () => json(job),
    'GET /api/v1/training-jobs': () => json(versions),
    'GET /api/v1/training-job-configs': emptyList,
    'GET /api/v1/notification-topics': emptyList,
    'GET /api/v1/resource-pools': () => json(pools),
    'GET /api/v1/budget': () => json(budget(balance)),
    'GET /api/v1/storage/buckets/demo/objects': () =>
      json({ bucket: 'demo', prefix: 'output/', path: 'obs://demo/output/', folders: [], objects: [] }),
    'POST /api/v1/training-jobs': () => json({ ...job, version: 'V002' }, 201),
  });
  renderPage(<CreateTrainingJobPage />, { url: '/jobs/new?from=linreg&version=V001', path: '/jobs/new' });
  await screen.findByRole('textbox', { name: 'Name' });
  for (const step of ['Job parameters', 'Resources', 'Notification', 'Confirm']) {
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('region', { name: step });
    if (step === 'Resources')
      await waitFor(() => expect((screen.getByRole('textbox', { name: 'Compute Nodes' }) as HTMLInputElement).value).toBe('2'));
  }
  return calls;
}

describe('the Confirm step’s cost estimate', () => {
  it('shows the estimate beside the balance, and submits when the balance covers it', async () => {
    await toConfirm(10);
    const resources = screen.getByRole('region', { name: 'Resources' });
    expect(await screen.findByText('up to 6 core-hours')).toBeTruthy();
    expect(resources.textContent).toContain('(2 nodes × 2 vCPUs × 1.5 h)');
    await waitFor(() => expect(resources.textContent).toContain('10 core-hours'));
    expect(screen.queryByRole('alert')).toBeNull();
    expect((screen.getByRole('button', { name: 'Submit' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('blocks Submit with the reason when the balance cannot cover the estimate', async () => {
    const calls = await toConfirm(5);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The budget cannot cover this job');
    expect(alert.textContent).toContain('The job may use up to 6 core-hours but the budget’s balance is 5'.replace('’', "'"));
    const submit = screen.getByRole('button', { name: 'Submit' }) as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    expect(submit.getAttribute('aria-describedby')).toBe(alert.id);
    fireEvent.click(submit);
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
  });

  it('says there is no estimate without a max running time, and does not block', async () => {
    job.spec.maxRuntimeMinutes = undefined;
    try {
      await toConfirm(1);
      expect(await screen.findByText('No estimate without a max running time')).toBeTruthy();
      expect((screen.getByRole('button', { name: 'Submit' }) as HTMLButtonElement).disabled).toBe(false);
    } finally {
      job.spec.maxRuntimeMinutes = 90;
    }
  });
});
