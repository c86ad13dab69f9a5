import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import type { ResourcePoolList, TrainingJob, TrainingJobList } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { CreateTrainingJobPage } from './CreateTrainingJobPage';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const pools: ResourcePoolList = {
  items: [
    {
      id: 'public',
      name: 'Public resource pool (this host)',
      types: ['CPU'],
      flavors: [{ id: 'cpu.1u2g', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0 }],
      capacity: { vcpus: 2, memoryGiB: 8, gpus: 0 },
      free: { vcpus: 2, memoryGiB: 8, gpus: 0 },
      queued: 0,
    },
  ],
};

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
    env: [{ name: 'EPOCHS', value: '20' }],
    resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  },
  createdAt: '2025-11-28T10:00:00.000Z',
  startedAt: null,
  endedAt: null,
  nodes: [],
  events: [],
};

const versions: TrainingJobList = {
  items: [
    { ...job, flavor: 'cpu.1u2g', nodes: 1, version: 'V001' },
    { ...job, flavor: 'cpu.1u2g', nodes: 1, version: 'V002' },
    { ...job, name: 'linreg-other', flavor: 'cpu.1u2g', nodes: 1, version: 'V007' },
  ],
  total: 3,
};

const emptyList = () => json({ items: [], total: 0 });
const next = () => fireEvent.click(screen.getByRole('button', { name: 'Next' }));

describe('CreateTrainingJobPage', () => {
  it('blocks Next while the step has errors and shows them on the fields', async () => {
    routeFetch({ 'GET /api/v1/training-job-configs': emptyList });
    renderPage(<CreateTrainingJobPage />, { url: '/jobs/new', path: '/jobs/new' });

    expect((screen.getByLabelText(/^Version/) as HTMLInputElement).value).toBe('V001');
    next();
    expect(await screen.findByText('Name is required')).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Basic information' })).toBeTruthy();

    fireEvent.change(screen.getByRole('textbox', { name: 'Name' }), { target: { value: 'linreg' } });
    next();
    expect(await screen.findByRole('region', { name: 'Job parameters' })).toBeTruthy();
  });

  it('asks for a secret value again when a new version comes from a job that had one', async () => {
    const withSecret: TrainingJob = {
      ...job,
      spec: { ...job.spec, env: [{ name: 'API_TOKEN', value: '', secret: true }, ...(job.spec.env ?? [])] },
    };
    routeFetch({
      'GET /api/v1/training-jobs/linreg/versions/V001': () => json(withSecret),
      'GET /api/v1/training-jobs': () => json(versions),
      'GET /api/v1/training-job-configs': emptyList,
      'GET /api/v1/notification-topics': emptyList,
      'GET /api/v1/resource-pools': () => json(pools),
    });
    renderPage(<CreateTrainingJobPage />, { url: '/jobs/new?from=linreg&version=V001', path: '/jobs/new' });
    expect(((await screen.findByRole('textbox', { name: 'Name' })) as HTMLInputElement).value).toBe('linreg');
    next();
    const value = (await screen.findByLabelText('Environment Variable 1 value')) as HTMLInputElement;
    expect(value.type).toBe('password');
    expect(value.value).toBe('');
    expect(value.placeholder).toMatch(/type it again/);
    expect((screen.getByLabelText('Environment Variable 1 secret') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText('Environment Variable 2 secret') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('Environment Variable 2 value') as HTMLInputElement).type).toBe('text');
  });

  // 100 rows render slowly in jsdom on a busy 2-core machine: a generous limit, not a timing claim.
  it('stops adding environment variables at the contract’s 100', { timeout: 30_000 }, async () => {
    const many: TrainingJob = {
      ...job,
      spec: { ...job.spec, env: Array.from({ length: 99 }, (_, i) => ({ name: `V${i}`, value: String(i) })) },
    };
    routeFetch({
      'GET /api/v1/training-jobs/linreg/versions/V001': () => json(many),
      'GET /api/v1/training-jobs': () => json(versions),
      'GET /api/v1/training-job-configs': emptyList,
      'GET /api/v1/notification-topics': emptyList,
      'GET /api/v1/resource-pools': () => json(pools),
    });
    renderPage(<CreateTrainingJobPage />, { url: '/jobs/new?from=linreg&version=V001', path: '/jobs/new' });
    expect(((await screen.findByRole('textbox', { name: 'Name' })) as HTMLInputElement).value).toBe('linreg');
    next();
    const add = (await screen.findByRole('button', { name: 'Add Environment Variable' })) as HTMLButtonElement;
    expect(add.disabled).toBe(false);
    fireEvent.click(add);
    expect(await screen.findByLabelText('Environment Variable 100 name')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Add Environment Variable' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('A job has at most 100 environment variables.')).toBeTruthy();
  });

  it('opens as the next version of a job, prefilled, and puts the server’s field errors on their fields', async () => {
    const calls = routeFetch({
      'GET /api/v1/training-jobs/linreg/versions/V001': () => json(job),
      'GET /api/v1/training-jobs': () => json(versions),
      'GET /api/v1/training-job-configs': emptyList,
      'GET /api/v1/notification-topics': emptyList,
      'GET /api/v1/resource-pools': () => json(pools),
      'GET /api/v1/storage/buckets/demo/objects': () =>
        json({ bucket: 'demo', prefix: 'output/', path: 'obs://demo/output/', folders: [], objects: [] }),
      'POST /api/v1/training-jobs': () =>
        json(
          {
            error: 'invalid_input',
            message: 'algorithm.codeDir: no such folder',
            fields: [{ path: 'algorithm.codeDir', message: 'obs://demo/code/linreg/ does not exist' }],
          },
          400,
        ),
    });
    renderPage(<CreateTrainingJobPage />, { url: '/jobs/new?from=linreg&version=V001', path: '/jobs/new' });

    const name = (await screen.findByRole('textbox', { name: 'Name' })) as HTMLInputElement;
    expect(name.value).toBe('linreg');
    expect(name.readOnly).toBe(true);
    expect((screen.getByLabelText(/^Version/) as HTMLInputElement).value).toBe('V003');

    next();
    expect(((await screen.findByRole('textbox', { name: 'Code Directory' })) as HTMLInputElement).value).toBe('obs://demo/code/linreg/');
    next();
    await screen.findByRole('region', { name: 'Resources' });
    await waitFor(() => expect((screen.getByRole('textbox', { name: 'Compute Nodes' }) as HTMLInputElement).value).toBe('1'));
    next();
    expect(await screen.findByText('No topics yet.', { exact: false })).toBeTruthy();
    next();
    expect(await screen.findByRole('region', { name: 'Confirm' })).toBeTruthy();
    expect(screen.getByText('EPOCHS=20')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    // On the field and in the alert, named by the field's label, never by the request path.
    expect(await screen.findAllByText('Code Directory: obs://demo/code/linreg/ does not exist')).toHaveLength(2);
    expect(screen.queryByText(/algorithm\.codeDir/)).toBeNull();
    expect(screen.getByRole('region', { name: 'Job parameters' })).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Code Directory' }).getAttribute('aria-invalid')).toBe('true');

    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toMatchObject({
      name: 'linreg',
      env: [{ name: 'EPOCHS', value: '20' }],
      resources: { flavor: 'cpu.1u2g', nodes: 1 },
    });
  });
});
