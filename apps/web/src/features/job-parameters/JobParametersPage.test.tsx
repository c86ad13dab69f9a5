import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router';
import type { TrainingJobConfig } from '@tc/contracts';
import { JobParametersPage } from './JobParametersPage';

// The page over a fake API at the fetch boundary; client, hooks and page are the real code.

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

type Call = { method: string; url: string; body: unknown };

function fakeApi(handle: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn<typeof fetch>(async (input, init) => {
      const call = { method: init?.method ?? 'GET', url: String(input), body: init?.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(call);
      const r = handle(call);
      return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status });
    }),
  );
  return calls;
}

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter>
        <JobParametersPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('JobParametersPage', () => {
  it('lists saved sets with a link that starts the wizard from one', async () => {
    fakeApi(() => ({ status: 200, body: { items: [config], total: 1 } }));
    renderPage();
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
    expect(within(table).getByRole('link', { name: 'Create job' }).getAttribute('href')).toBe('/jobs/new?config=linreg-params');
  });

  it('deletes after a confirmation', async () => {
    let items = [config];
    const calls = fakeApi((c) => {
      if (c.method === 'DELETE') {
        items = [];
        return { status: 204 };
      }
      return { status: 200, body: { items, total: items.length } };
    });
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete linreg-params' }));
    expect(await screen.findByRole('heading', { name: 'No saved job parameters yet' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'DELETE')?.url).toBe('/api/v1/training-job-configs/linreg-params');
  });

  it('edits the description and parameters, refusing what the contract refuses before sending', async () => {
    const calls = fakeApi((c) =>
      c.method === 'PUT' ? { status: 200, body: config } : { status: 200, body: { items: [config], total: 1 } },
    );
    renderPage();
    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    const form = screen.getByRole('form', { name: 'Edit linreg-params' });
    const params = within(form).getByLabelText('Parameters (JSON)');
    fireEvent.change(params, { target: { value: JSON.stringify({ ...config.parameters, trainOutput: 'http://nope/' }) } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    expect((await within(form).findByRole('alert')).textContent).toContain('parameters.trainOutput');
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);

    fireEvent.change(within(form).getByLabelText('Description'), { target: { value: 'thirty epochs' } });
    fireEvent.change(params, { target: { value: JSON.stringify({ ...config.parameters, env: [{ name: 'EPOCHS', value: '30' }] }) } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    expect(calls.find((c) => c.method === 'PUT')).toMatchObject({
      url: '/api/v1/training-job-configs/linreg-params',
      body: { description: 'thirty epochs', parameters: { env: [{ name: 'EPOCHS', value: '30' }] } },
    });
  });
});
