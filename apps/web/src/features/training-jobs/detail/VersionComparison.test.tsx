import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import type { ComparedVersion, VersionComparison } from '@tc/contracts';
import { json, renderPage, routeFetch } from '../../../test-utils';
import { ComparisonTable, overlaidCurves, ViewComparisonButton } from './VersionComparison';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function version(over: Partial<ComparedVersion> & Pick<ComparedVersion, 'version'>): ComparedVersion {
  return {
    status: 'Successful',
    imagePath: 'demo/linreg-train:1.0',
    imageId: 'sha256:aaaa',
    imageDigest: null,
    data: { source: 'path', path: 'obs://demo/data/' },
    flavor: 'cpu.2u8g',
    nodes: 1,
    durationSeconds: 12,
    parameters: { 'algorithm.bootCommand': 'python train.py', 'env.LR': '0.1', 'env.TOKEN': '(secret)' },
    finalMetrics: { loss: 0.4, acc: 0.9 },
    ...over,
  };
}

const comparison: VersionComparison = {
  name: 'linreg',
  versions: [
    version({ version: 'V001' }),
    version({
      version: 'V002',
      parameters: { 'algorithm.bootCommand': 'python train.py', 'env.LR': '0.01', 'env.TOKEN': '(secret)' },
      finalMetrics: { loss: 0.2, acc: 0.9 },
    }),
  ],
  differingParameters: ['env.LR'],
};

const row = (label: string) => screen.getByRole('rowheader', { name: new RegExp(`^${label}`) }).closest('tr')!;

describe('ComparisonTable', () => {
  it('puts the versions side by side and highlights only the rows that differ', () => {
    renderPage(<ComparisonTable comparison={comparison} />);
    const table = screen.getByRole('table', { name: 'Comparison Result' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((h) => h.textContent),
    ).toEqual(['Running Parameter', 'V001', 'V002']);

    expect(row('Environment Variable LR').getAttribute('data-differs')).toBe('true');
    expect(within(row('Environment Variable LR')).getByText('0.01')).toBeTruthy();
    expect(row('Final loss').getAttribute('data-differs')).toBe('true');
    for (const same of [
      'Status',
      'Image',
      'Data Source',
      'Specifications',
      'Duration',
      'Boot Command',
      'Final acc',
      'Environment Variable TOKEN',
    ]) {
      expect(row(same).hasAttribute('data-differs'), same).toBe(false);
    }
    expect(screen.getByText('2 rows differ (highlighted).')).toBeTruthy();

    fireEvent.click(screen.getByRole('checkbox', { name: 'Only rows that differ' }));
    expect(
      within(table)
        .getAllByRole('rowheader')
        .map((h) => h.textContent),
    ).toEqual(['Environment Variable LR (differs)', 'Final loss (differs)']);
  });

  it('shows a dataset source and an unchecked image', () => {
    renderPage(
      <ComparisonTable
        comparison={{
          ...comparison,
          versions: [
            version({ version: 'V001', data: { source: 'dataset', datasetId: 'mnist', datasetVersion: 'V002' }, imageId: null }),
            version({ version: 'V003' }),
          ],
          differingParameters: [],
        }}
      />,
    );
    expect(row('Data Source').getAttribute('data-differs')).toBe('true');
    expect(within(row('Data Source')).getByText('Dataset mnist V002')).toBeTruthy();
    expect(within(row('Image')).getByText('not checked yet')).toBeTruthy();
  });
});

describe('ViewComparisonButton', () => {
  it('opens from a deep link with the chosen versions', async () => {
    const calls = routeFetch({
      'GET /api/v1/training-jobs?': () =>
        json({
          items: ['V003', 'V002', 'V001'].map((v) => ({ name: 'linreg', version: v })),
          total: 3,
        }),
      'GET /api/v1/training-jobs/linreg/comparison': ({ url }) =>
        url.includes('versions=V001%2CV002') ? json(comparison) : json({ error: 'unexpected', message: url }, 500),
      'GET /api/v1/training-jobs/linreg/versions/': () => json({ series: [] }),
    });
    renderPage(<ViewComparisonButton name="linreg" />, { url: '/jobs/linreg/V002?compare=V001,V002' });
    expect(await screen.findByRole('table', { name: 'Comparison Result' })).toBeTruthy();
    expect(calls.some((c) => c.url.endsWith('/comparison?versions=V001%2CV002'))).toBe(true);
    expect(await screen.findByTestId('comparison-curves-empty')).toBeTruthy();
  });

  it('says so when a version does not exist', async () => {
    routeFetch({
      'GET /api/v1/training-jobs?': () => json({ items: [], total: 0 }),
      'GET /api/v1/training-jobs/linreg/comparison': () =>
        json({ error: 'not_found', message: 'training job linreg V009 does not exist' }, 404),
    });
    renderPage(<ViewComparisonButton name="linreg" />, { url: '/jobs/linreg/V001?compare=V001,V009' });
    expect(await screen.findByText('A version does not exist')).toBeTruthy();
    expect(screen.getByText('training job linreg V009 does not exist')).toBeTruthy();
  });
});

describe('overlaidCurves', () => {
  it('draws each version by step from node 0, or by seconds when a point has no step', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();
    const curves = overlaidCurves([
      {
        version: 'V001',
        metrics: {
          series: [
            { name: 'loss', node: 1, points: [{ step: 1, at: at(0), value: 9 }] },
            {
              name: 'loss',
              node: 0,
              points: [
                { step: 1, at: at(0), value: 0.9 },
                { step: 2, at: at(5), value: 0.5 },
              ],
            },
            {
              name: 'lr',
              node: 0,
              points: [
                { at: at(0), value: 0.1 },
                { at: at(4), value: 0.05 },
              ],
            },
          ],
        },
      },
      { version: 'V002', metrics: { series: [{ name: 'loss', node: 0, points: [{ step: 1, at: at(30), value: 0.7 }] }] } },
    ]);
    expect(curves.map((c) => [c.name, c.xLabel])).toEqual([
      ['loss', 'Step'],
      ['lr', 'Seconds since the first value'],
    ]);
    expect(curves[0]!.series).toEqual([
      {
        label: 'V001',
        points: [
          { x: 1, y: 0.9 },
          { x: 2, y: 0.5 },
        ],
      },
      { label: 'V002', points: [{ x: 1, y: 0.7 }] },
    ]);
    expect(curves[1]!.series).toEqual([
      {
        label: 'V001',
        points: [
          { x: 0, y: 0.1 },
          { x: 4, y: 0.05 },
        ],
      },
    ]);
  });
});
