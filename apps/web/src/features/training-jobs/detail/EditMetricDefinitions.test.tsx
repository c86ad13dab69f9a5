import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { JobMetrics as JobMetricsData, TrainingJob } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { JobMetrics } from './JobMetrics';

// happy-dom has no canvas; the charts are not what this tests, so each is a labelled box.
vi.mock('../../../ui/charts/TimeSeriesChart', () => ({
  TimeSeriesChart: ({
    ariaLabel,
    series,
    xNumberLabel,
  }: {
    ariaLabel: string;
    series: { points: { x: number }[] }[];
    xNumberLabel?: string;
  }) => (
    <div role="img" aria-label={ariaLabel} data-x={series.flatMap((s) => s.points.map((p) => p.x)).join(',')} data-x-label={xNumberLabel} />
  ),
}));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
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
    metrics: [{ name: 'top1', regex: 'top1 ([0-9.]+)' }],
    resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  },
  createdAt: '2025-11-28T10:00:00.000Z',
  startedAt: '2025-11-28T10:00:01.000Z',
  endedAt: '2025-11-28T10:00:09.000Z',
  nodes: [],
  events: [],
};

const series = (name: string, values: number[]): JobMetricsData['series'][number] => ({
  name,
  node: 0,
  points: values.map((value, i) => ({ at: `2025-11-28T10:00:0${i + 2}.000Z`, value })),
});

const path = '/api/v1/training-jobs/linreg/versions/V001';

describe('Edit metric definitions', () => {
  it('opens the wizard’s field with the job’s definitions, saves them and shows the re-read series', async () => {
    const calls = routeFetch({
      [`GET ${path}/metrics`]: () => json({ series: [series('top1', [0.5, 0.6])] }),
      [`PUT ${path}/metric-definitions`]: () => json({ series: [series('top1', [0.5, 0.6]), series('top5', [0.8, 0.9])] }),
    });
    renderPage(<JobMetrics job={job} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit metric definitions' }));
    const dialog = await screen.findByRole('dialog', { name: 'Metric definitions of linreg V001' });
    expect((within(dialog).getByLabelText('Metric 1 regular expression') as HTMLInputElement).value).toBe('top1 ([0-9.]+)');

    fireEvent.click(within(dialog).getByRole('button', { name: 'Add Metric' }));
    fireEvent.change(within(dialog).getByLabelText('Metric 2 name'), { target: { value: 'top5' } });
    fireEvent.change(within(dialog).getByLabelText('Metric 2 regular expression'), { target: { value: 'top5 ([0-9.]+)' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save and re-read the log' }));

    const latest = await screen.findByRole('table', { name: 'Latest metric values' });
    await waitFor(() => expect(within(latest).getByText('top5')).toBeTruthy());
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByRole('img', { name: 'Metric top5' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({
      metrics: [
        { name: 'top1', regex: 'top1 ([0-9.]+)' },
        { name: 'top5', regex: 'top5 ([0-9.]+)' },
      ],
    });
  });

  it('puts the contract’s and the server’s refusals on the field, and sends nothing the contract refuses', async () => {
    const calls = routeFetch({
      [`GET ${path}/metrics`]: () => json({ series: [] }),
      [`PUT ${path}/metric-definitions`]: () =>
        json(
          {
            error: 'invalid_input',
            message: 'metrics.0.regex: matches too slowly',
            fields: [{ path: 'metrics.0.regex', message: 'matches too slowly' }],
          },
          400,
        ),
    });
    renderPage(<JobMetrics job={job} />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit metric definitions' }));
    const dialog = await screen.findByRole('dialog');
    const regex = within(dialog).getByLabelText('Metric 1 regular expression');

    fireEvent.change(regex, { target: { value: '(a+)+' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save and re-read the log' }));
    expect(await within(dialog).findByText(/catastrophic backtracking/)).toBeTruthy();
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);

    fireEvent.change(regex, { target: { value: 'top1 ([0-9.]+)' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save and re-read the log' }));
    expect(await within(dialog).findByText('Matches too slowly')).toBeTruthy();
    expect(regex.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByRole('dialog')).toBeTruthy();
  });

  it('is not offered while the job runs', async () => {
    routeFetch({ [`GET ${path}/metrics`]: () => json({ series: [series('top1', [0.5])] }) });
    renderPage(<JobMetrics job={{ ...job, status: 'Running', endedAt: null }} />);
    await screen.findByRole('table', { name: 'Latest metric values' });
    expect(screen.queryByRole('button', { name: 'Edit metric definitions' })).toBeNull();
  });
});

describe('the charts’ x axis', () => {
  it('is the step where a metric’s values all have one, else the time; "By time" switches it', async () => {
    const stepped = {
      ...series('loss', [0.9, 0.5]),
      points: [0.9, 0.5].map((value, i) => ({ at: `2025-11-28T10:00:0${i + 2}.000Z`, step: i + 1, value })),
    };
    routeFetch({ [`GET ${path}/metrics`]: () => json({ series: [stepped, series('top1', [0.5, 0.6])] }) });
    renderPage(<JobMetrics job={job} />);
    const loss = await screen.findByRole('img', { name: 'Metric loss' });
    expect(loss.dataset.x).toBe('1,2');
    expect(loss.dataset.xLabel).toBe('step');
    // No steps: by time whatever the choice.
    expect(screen.getByRole('img', { name: 'Metric top1' }).dataset.x).toBe(
      `${Date.parse('2025-11-28T10:00:02.000Z')},${Date.parse('2025-11-28T10:00:03.000Z')}`,
    );
    fireEvent.click(screen.getByText('By time'));
    await waitFor(() => expect(screen.getByRole('img', { name: 'Metric loss' }).dataset.xLabel).toBeUndefined());
    expect(screen.getByRole('img', { name: 'Metric loss' }).dataset.x).toBe(
      `${Date.parse('2025-11-28T10:00:02.000Z')},${Date.parse('2025-11-28T10:00:03.000Z')}`,
    );
  });
});
