import type { APIRequestContext } from '@playwright/test';
import type { TrainingJob } from '@tc/contracts';
import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

// "View Comparison Result" (issue 15, item 7): versions side by side, differing rows highlighted,
// their metric curves overlaid; the chosen versions are in the URL.
const request = (name: string, lr: string) => ({
  name,
  algorithm: {
    source: 'custom',
    imagePath: 'demo/linreg-train:1.0',
    codeDir: 'obs://demo/code/linreg/',
    bootCommand: 'for i in 1 2 3; do echo "epoch $i/3 loss=$(( 10 - i ))$LR"; done',
  },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: `obs://demo/output/${name}/`,
  env: [
    { name: 'LR', value: lr },
    { name: 'API_TOKEN', value: `secret-${lr}`, secret: true },
  ],
});

async function untilEnded(api: APIRequestContext, name: string, version: string): Promise<void> {
  await expect
    .poll(async () => ((await (await api.get(`/api/v1/training-jobs/${name}/versions/${version}`)).json()) as TrainingJob).status, {
      timeout: 60_000,
    })
    .toMatch(/^(Successful|Running failed|Stopped)$/);
}

test('View Comparison Result shows versions side by side, highlights what differs, overlays curves', async ({
  page,
  request: api,
}, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  const name = `cmp-${uniqueSuffix()}`;
  for (const lr of ['1', '2', '2']) {
    expect((await api.post('/api/v1/training-jobs', { data: request(name, lr) })).status()).toBe(201);
  }
  for (const v of ['V001', 'V002', 'V003']) await untilEnded(api, name, v);

  await page.goto(`/jobs/${name}/V003`);
  await page.getByRole('button', { name: 'View Comparison Result' }).click();
  const dialog = page.getByRole('dialog', { name: `Comparison Result: ${name}` });
  await expect(dialog).toBeVisible();
  // All versions by default, and the choice is in the address.
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V003\\?compare=V001%2CV002%2CV003$`));
  const table = dialog.getByRole('table', { name: 'Comparison Result' });
  await expect(table.getByRole('columnheader')).toHaveText(['Running Parameter', 'V001', 'V002', 'V003']);

  const row = (label: string) => table.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${label}`) }) });
  await expect(row('Environment Variable LR')).toHaveAttribute('data-differs', 'true');
  await expect(row('Environment Variable LR').getByRole('cell')).toHaveText(['1', '2', '2']);
  await expect(row('Final loss')).toHaveAttribute('data-differs', 'true');
  await expect(row('Final loss').getByRole('cell')).toHaveText(['71', '72', '72']);
  await expect(row('Boot Command')).not.toHaveAttribute('data-differs', 'true');
  await expect(row('Status').getByRole('cell')).toHaveText(['Successful', 'Successful', 'Successful']);
  await expect(row('Environment Variable API_TOKEN').getByRole('cell')).toHaveText(['(secret)', '(secret)', '(secret)']);
  await expect(dialog).not.toContainText('secret-1');

  const chart = dialog.getByRole('img', { name: 'Metric loss by version' });
  await expect(chart.locator('canvas')).toHaveCount(1);
  await expect(chart).toContainText('V001');
  await expect(chart).toContainText('V003');
  await snap(page, testInfo, 'comparison-three-versions');

  // Two versions that differ in nothing but the output they ran on: a deep link opens them.
  await page.goto(`/jobs/${name}/V002?compare=V002,V003`);
  await expect(table.getByRole('columnheader')).toHaveText(['Running Parameter', 'V002', 'V003']);
  await expect(row('Environment Variable LR')).not.toHaveAttribute('data-differs', 'true');
  await dialog.getByRole('checkbox', { name: 'Only rows that differ' }).check();
  await expect(row('Environment Variable LR')).toHaveCount(0);
  await snap(page, testInfo, 'comparison-only-differences');

  // A version that does not exist is said so; closing the dialog drops the choice from the address.
  await page.goto(`/jobs/${name}/V002?compare=V002,V009`);
  await expect(dialog.getByRole('alert')).toContainText('A version does not exist');
  await dialog.getByRole('button', { name: 'Close dialog' }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V002$`));
  expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
});

test('View Comparison Result is off while a job has one version', async ({ page, request: api }) => {
  const name = `cmp-${uniqueSuffix()}`;
  expect((await api.post('/api/v1/training-jobs', { data: request(name, '1') })).status()).toBe(201);
  await page.goto(`/jobs/${name}/V001`);
  await expect(page.getByRole('combobox', { name: 'Select Version' })).toHaveValue('V001');
  await expect(page.getByRole('button', { name: 'View Comparison Result' })).toBeDisabled();
});
