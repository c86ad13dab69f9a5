import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { TrainingJobsPage } from './TrainingJobsPage';
import { listRefetchInterval, type TrainingJobList, type TrainingJobSummary } from '../api';
import { json, renderPage, routeFetch } from '../../../test-utils';

// Unit test of the page: the network is faked at the fetch boundary, everything above it
// (client, query hooks, page) is the real code.

function job(overrides: Partial<TrainingJobSummary>): TrainingJobSummary {
  return {
    name: 'linreg-demo',
    version: 'V001',
    status: 'Successful',
    reason: null,
    queuePosition: null,
    flavor: 'cpu.1u2g',
    nodes: 1,
    createdAt: '2025-11-28T10:00:00.000Z',
    startedAt: '2025-11-28T10:00:05.000Z',
    endedAt: '2025-11-28T10:01:12.000Z',
    ...overrides,
  };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const cells = (row: HTMLElement) =>
  within(row)
    .getAllByRole('cell')
    .map((td) => td.textContent);

describe('TrainingJobsPage', () => {
  it('lists jobs with their status, flavor, nodes, duration and the actions their status allows', async () => {
    const list: TrainingJobList = {
      items: [
        job({
          name: 'resnet',
          version: 'V002',
          status: 'Running failed',
          reason: 'container exited with code 1',
          failureClass: 'user',
          nodes: 2,
          flavor: 'cpu.2u8g',
          versionCount: 2,
        }),
        job({
          name: 'bert',
          status: 'Queuing',
          queuePosition: 3,
          waitingSummary: 'position 3 in pool public; needs 2 vCPUs (0 free)',
          startedAt: null,
          endedAt: null,
        }),
        job({}),
      ],
      total: 3,
    };
    const calls = routeFetch({ 'GET /api/v1/training-jobs': () => json(list) });

    renderPage(<TrainingJobsPage />);

    expect(screen.getByRole('heading', { name: 'Training Jobs' })).toBeTruthy();
    const table = await screen.findByRole('table', { name: 'Training jobs' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Name', 'Latest version', 'Status', 'Flavor', 'Nodes', 'Created', 'Duration', 'Operation']);

    const [failed, queued, ok] = within(table).getAllByRole('row').slice(1);
    // One row per job name: its latest version, and how many versions it has.
    expect(cells(failed!).slice(0, 2)).toEqual(['resnet', 'V0022 versions']);
    expect(cells(failed!)[2]).toContain('Running failed');
    expect(cells(failed!)[2]).toContain('[user] container exited with code 1');
    // A queued job says why it waits.
    expect(cells(queued!)[2]).toContain('position 3 in pool public; needs 2 vCPUs (0 free)');
    expect(cells(failed!)[3]).toBe('cpu.2u8g');
    expect(cells(failed!)[4]).toBe('2');
    expect(cells(queued!)[2]).toContain('Queuing (#3)');
    expect(cells(queued!)[6]).toBe('—');
    expect(cells(ok!)[2]).toBe('Successful');
    expect(cells(ok!)[6]).toBe('1m 07s');

    // Stop only while a job can change, delete only once it has ended; a new version always.
    expect(within(queued!).getByRole('button', { name: 'Stop bert V001' })).toBeTruthy();
    expect(within(queued!).queryByRole('button', { name: /Delete/ })).toBeNull();
    expect(within(ok!).getByRole('button', { name: 'Delete linreg-demo V001' })).toBeTruthy();
    expect(within(ok!).queryByRole('button', { name: /Stop/ })).toBeNull();
    expect(within(ok!).getByRole('link', { name: 'Create new version of linreg-demo V001' }).getAttribute('href')).toBe(
      '/jobs/new?from=linreg-demo&version=V001',
    );
    expect(within(ok!).getByRole('link', { name: 'linreg-demo' }).getAttribute('href')).toBe('/jobs/linreg-demo/V001');

    expect(calls[0]?.url).toBe('/api/v1/training-jobs?page=1&pageSize=20&latest=true');
  });

  it('asks before deleting, then deletes and reloads the list', async () => {
    let items = [job({})];
    const calls = routeFetch({
      'GET /api/v1/training-jobs': () => json({ items, total: items.length }),
      'DELETE /api/v1/training-jobs/linreg-demo/versions/V001': () => {
        items = [];
        return new Response(null, { status: 204 });
      },
    });
    renderPage(<TrainingJobsPage />);

    fireEvent.click(await screen.findByRole('button', { name: 'Delete linreg-demo V001' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('Delete linreg-demo V001?');
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete job' }));

    expect(await screen.findByRole('heading', { name: 'No training jobs yet' })).toBeTruthy();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('shows the empty state with a way to create a job, a curl hint and the trainctl command', async () => {
    routeFetch({ 'GET /api/v1/training-jobs': () => json({ items: [], total: 0 }) });

    renderPage(<TrainingJobsPage />);

    expect(await screen.findByRole('heading', { name: 'No training jobs yet' })).toBeTruthy();
    expect(screen.getByText(/curl -X POST .*\/api\/v1\/training-jobs/)).toBeTruthy();
    expect(screen.getByText(/npx trainctl run job\.yaml --follow/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Create a training job' }).getAttribute('href')).toBe('/jobs/new');
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('filters by name and status through the API', async () => {
    const calls = routeFetch({ 'GET /api/v1/training-jobs': () => json({ items: [job({})], total: 1 }) });
    renderPage(<TrainingJobsPage />);
    await screen.findByRole('table', { name: 'Training jobs' });

    fireEvent.change(screen.getByLabelText('Search by name'), { target: { value: 'lin' } });
    await waitFor(() => expect(calls.some((c) => c.url.includes('name=lin'))).toBe(true));

    fireEvent.click(screen.getByRole('combobox', { name: 'Status' }));
    fireEvent.click(await screen.findByRole('option', { name: 'Running failed', hidden: true }));
    await waitFor(() => expect(calls.some((c) => c.url.includes('name=lin') && c.url.includes('status=Running+failed'))).toBe(true));
  });

  it("shows the API's error message when the list cannot be loaded", async () => {
    routeFetch({ 'GET /api/v1/training-jobs': () => json({ error: 'unavailable', message: 'database is not answering' }, 503) });

    renderPage(<TrainingJobsPage />);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not load training jobs');
    expect(alert.textContent).toContain('database is not answering');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeTruthy();
  });
});

describe('listRefetchInterval', () => {
  it('polls every 2 s while any job is not terminal', () => {
    expect(listRefetchInterval({ items: [job({}), job({ status: 'Running' })], total: 2 })).toBe(2000);
    expect(listRefetchInterval({ items: [job({ status: 'Stopping' })], total: 1 })).toBe(2000);
  });

  it('stops polling once every job is terminal, or before there is data', () => {
    const terminal = (['Successful', 'Running failed', 'Stopped'] as const).map((status) => job({ status }));
    expect(listRefetchInterval({ items: terminal, total: 3 })).toBe(false);
    expect(listRefetchInterval({ items: [], total: 0 })).toBe(false);
    expect(listRefetchInterval(undefined)).toBe(false);
  });
});
