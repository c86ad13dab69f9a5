import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { TrainingJobsPage } from './TrainingJobsPage';
import { listRefetchInterval, type TrainingJobList, type TrainingJobSummary } from '../../../api/training-jobs';

// Unit test of the renderer: the network is faked at the fetch boundary, everything above it
// (client, query hook, page) is the real code.

function job(overrides: Partial<TrainingJobSummary>): TrainingJobSummary {
  return {
    name: 'linreg-demo',
    version: 'V001',
    status: 'Successful',
    reason: null,
    flavor: 'cpu.1u2g',
    nodes: 1,
    createdAt: '2025-11-28T10:00:00.000Z',
    startedAt: '2025-11-28T10:00:05.000Z',
    endedAt: '2025-11-28T10:01:12.000Z',
    ...overrides,
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function mockFetch(...responses: Response[]) {
  const fetchMock = vi.fn<typeof fetch>();
  for (const r of responses) fetchMock.mockResolvedValueOnce(r);
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <TrainingJobsPage />
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('TrainingJobsPage', () => {
  it('lists jobs with their status, flavor, nodes and duration', async () => {
    const list: TrainingJobList = {
      items: [
        job({
          name: 'resnet',
          version: 'V002',
          status: 'Running failed',
          reason: 'container exited with code 1',
          nodes: 2,
          flavor: 'cpu.2u8g',
        }),
        job({}),
      ],
      total: 2,
    };
    const fetchMock = mockFetch(json(list));

    renderPage();

    expect(screen.getByRole('heading', { name: 'Training Jobs' })).toBeTruthy();
    const table = await screen.findByRole('table', { name: 'Training jobs' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Name', 'Version', 'Status', 'Flavor', 'Nodes', 'Created', 'Duration']);

    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    const [failed, ok] = rows.map((row) =>
      within(row)
        .getAllByRole('cell')
        .map((td) => td.textContent),
    );
    expect(failed?.slice(0, 2)).toEqual(['resnet', 'V002']);
    expect(failed?.[2]).toContain('Running failed');
    expect(failed?.[2]).toContain('container exited with code 1');
    expect(failed?.[3]).toBe('cpu.2u8g');
    expect(failed?.[4]).toBe('2');
    expect(ok?.[0]).toBe('linreg-demo');
    expect(ok?.[2]).toBe('Successful');
    expect(ok?.[6]).toBe('1m 07s');

    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe('/api/v1/training-jobs');
  });

  it('shows the empty state with a curl hint when there are no jobs', async () => {
    mockFetch(json({ items: [], total: 0 }));

    renderPage();

    expect(await screen.findByRole('heading', { name: 'No training jobs yet' })).toBeTruthy();
    expect(screen.getByText(/curl -X POST .*\/api\/v1\/training-jobs/)).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it("shows the API's error message when the list cannot be loaded", async () => {
    mockFetch(json({ error: 'unavailable', message: 'database is not answering' }, 503));

    renderPage();

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
