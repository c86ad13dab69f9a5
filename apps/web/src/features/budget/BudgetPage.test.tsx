import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import type { Budget, JobConsumption } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../test-utils';
import { BudgetPage, formatCoreHours } from './BudgetPage';

// The page over a fake API at the fetch boundary; client, hooks and page are the real code.

const burn: JobConsumption = {
  name: 'burn',
  version: 'V001',
  status: 'Successful',
  pool: 'public',
  flavor: 'cpu.1u2g',
  vcpus: 1,
  gpus: 0,
  nodes: 1,
  startedAt: '2026-11-28T10:00:00.000Z',
  endedAt: '2026-11-28T10:00:03.000Z',
  hours: 3 / 3600,
  coreHours: 3 / 3600,
};
const gone: JobConsumption = { ...burn, name: 'old', status: null, hours: 2, coreHours: 4, vcpus: 2, nodes: 1 };

const budget = (over: Partial<Budget> = {}): Budget => ({
  limitCoreHours: 0.0005,
  usedCoreHours: 3 / 3600,
  balanceCoreHours: 0.0005 - 3 / 3600,
  inArrears: true,
  gpuHourWeight: 10,
  asOf: '2026-11-28T10:01:00.000Z',
  jobs: [burn],
  ...over,
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('BudgetPage', () => {
  it('shows limit, used, balance, the arrears warning and the consumers', async () => {
    routeFetch({
      'GET /api/v1/budget/jobs': () => json({ items: [burn, gone], total: 2, asOf: '2026-11-28T10:01:00.000Z' }),
      'GET /api/v1/budget': () => json(budget()),
    });
    renderPage(<BudgetPage />);
    expect((await screen.findByRole('alert')).textContent).toMatch(/in arrears/);
    expect(screen.getByRole('region', { name: 'Budget' }).textContent).toContain('0.0005 core-hours');
    expect(screen.getByRole('region', { name: 'Used' }).textContent).toContain('0.00083 core-hours');
    expect(screen.getByRole('region', { name: 'Balance' }).textContent).toContain('-0.00033 core-hours');
    const top = screen.getByRole('table', { name: 'Top consumers' });
    expect(within(top).getByRole('link', { name: 'burn V001' }).getAttribute('href')).toBe('/jobs/burn/V001');

    const all = await screen.findByRole('table', { name: 'Consumption per job' });
    const rows = within(all).getAllByRole('row').slice(1);
    expect(within(rows[1]!).getByText('Deleted')).toBeTruthy();
    expect(within(rows[1]!).getAllByRole('cell').at(-1)!.textContent).toBe('4.00');
    expect(within(rows[0]!).getAllByRole('cell')[4]!.textContent).toBe('3.0s');
  });

  it('says unlimited without a budget, and shows empty and error states', async () => {
    let fail = true;
    routeFetch({
      'GET /api/v1/budget/jobs': () => json({ items: [], total: 0, asOf: '2026-11-28T10:01:00.000Z' }),
      'GET /api/v1/budget': () =>
        fail
          ? json({ error: 'internal', message: 'database is locked' }, 500)
          : json(budget({ limitCoreHours: null, balanceCoreHours: null, inArrears: false, usedCoreHours: 0, jobs: [] })),
    });
    renderPage(<BudgetPage />);
    expect((await screen.findByRole('alert')).textContent).toContain('database is locked');
    expect(await screen.findByRole('heading', { name: 'No job has run yet' })).toBeTruthy();
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect((await screen.findByRole('region', { name: 'Budget' })).textContent).toContain('Unlimited');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('formats core-hours for people', () => {
    expect(formatCoreHours(0)).toBe('0');
    expect(formatCoreHours(3 / 3600)).toBe('0.00083');
    expect(formatCoreHours(12.345)).toBe('12.35');
  });
});
