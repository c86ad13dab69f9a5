import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { ResourcePoolList, TrainingJobConfig } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../test-utils';
import { EditParameterSetPage } from './EditParameterSetPage';
import { JobParametersPage } from './JobParametersPage';

// The pages over a fake API at the fetch boundary; client, hooks and pages are the real code.

const config: TrainingJobConfig = {
  name: 'linreg-params',
  description: '20 epochs',
  parameters: {
    algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'sh train.sh' },
    data: { source: 'path', path: 'obs://demo/data/' },
    trainOutput: 'obs://demo/output/',
    env: [{ name: 'EPOCHS', value: '20' }],
    resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  },
  sourceJob: { name: 'linreg-demo', version: 'V001' },
  createdAt: '2025-11-28T10:00:00.000Z',
  updatedAt: '2025-11-28T10:00:00.000Z',
};

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

const emptyList = () => json({ items: [], total: 0 });
const next = () => fireEvent.click(screen.getByRole('button', { name: 'Next' }));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('JobParametersPage', () => {
  it('lists saved sets with links that start the wizard from one and edit it in the wizard', async () => {
    routeFetch({ 'GET /api/v1/training-job-configs': () => json({ items: [config], total: 1 }) });
    renderPage(<JobParametersPage />);
    const table = await screen.findByRole('table', { name: 'Job parameters' });
    const cells = within(within(table).getAllByRole('row')[1]!)
      .getAllByRole('cell')
      .map((c) => c.textContent);
    expect(cells.slice(0, 6)).toEqual([
      'linreg-params',
      '20 epochs',
      'demo/linreg-train:1.0',
      'cpu.1u2g',
      'linreg-demo V001',
      expect.any(String),
    ]);
    expect(within(table).getByRole('link', { name: 'Create job from linreg-params' }).getAttribute('href')).toBe(
      '/jobs/new?config=linreg-params',
    );
    expect(within(table).getByRole('link', { name: 'Edit linreg-params' }).getAttribute('href')).toBe('/job-parameters/linreg-params/edit');
    // No JSON editor any more: parameters are edited with the wizard's own fields.
    expect(screen.queryByLabelText('Parameters (JSON)')).toBeNull();
  });

  it('deletes after a confirmation', async () => {
    let items = [config];
    const calls = routeFetch({
      'GET /api/v1/training-job-configs': () => json({ items, total: items.length }),
      'DELETE /api/v1/training-job-configs/linreg-params': () => {
        items = [];
        return new Response(null, { status: 204 });
      },
    });
    renderPage(<JobParametersPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete linreg-params' }));
    const dialog = await screen.findByRole('dialog');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByRole('heading', { name: 'No saved job parameters yet' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'DELETE')?.url).toBe('/api/v1/training-job-configs/linreg-params');
  });
});

describe('EditParameterSetPage', () => {
  it('edits a set in the wizard’s steps with its name fixed, refusing what the contract refuses before sending', async () => {
    const calls = routeFetch({
      'GET /api/v1/training-job-configs/linreg-params': () => json(config),
      'PUT /api/v1/training-job-configs/linreg-params': () => json(config),
      'GET /api/v1/training-job-configs': () => json({ items: [config], total: 1 }),
      'GET /api/v1/notification-topics': emptyList,
      'GET /api/v1/datasets': emptyList,
      'GET /api/v1/images': emptyList,
      'GET /api/v1/resource-pools': () => json(pools),
      'GET /api/v1/storage/buckets/demo/objects': () =>
        json({ bucket: 'demo', prefix: 'output/', path: 'obs://demo/output/', folders: [], objects: [] }),
    });
    renderPage(<EditParameterSetPage />, { url: '/job-parameters/linreg-params/edit', path: '/job-parameters/:name/edit' });

    const name = (await screen.findByRole('textbox', { name: 'Name' })) as HTMLInputElement;
    expect(name.value).toBe('linreg-params');
    expect(name.readOnly).toBe(true);
    fireEvent.change(screen.getByRole('textbox', { name: 'Description' }), { target: { value: 'thirty epochs' } });
    next();

    const output = (await screen.findByRole('textbox', { name: 'Training Output Path' })) as HTMLInputElement;
    expect(output.value).toBe('obs://demo/output/');
    // The data folder itself as output: the create request's cross-field rule speaks, on its field.
    fireEvent.change(output, { target: { value: 'obs://demo/data/' } });
    next();
    await waitFor(() => expect(output.getAttribute('aria-invalid')).toBe('true'));
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);

    fireEvent.change(output, { target: { value: 'obs://demo/output/thirty/' } });
    fireEvent.change(screen.getByLabelText('Environment Variable 1 value'), { target: { value: '30' } });
    next();
    await screen.findByRole('region', { name: 'Resources' });
    next();
    await screen.findByRole('region', { name: 'Notification' });
    expect(screen.queryByRole('checkbox', { name: 'Save Training Parameters' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));

    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.body).toMatchObject({
      description: 'thirty epochs',
      parameters: { trainOutput: 'obs://demo/output/thirty/', env: [{ name: 'EPOCHS', value: '30' }] },
    });
    expect(put.body).not.toHaveProperty('parameters.name');
    expect(put.body).not.toHaveProperty('parameters.saveConfig');
  });
});
