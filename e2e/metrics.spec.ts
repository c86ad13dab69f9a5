import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

test('a metric defined in the wizard is charted on the job page', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  const errors = consoleErrors(page);
  const name = `metrics-${uniqueSuffix()}`;
  await page.goto('/jobs/new');

  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
  await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
  await page
    .getByLabel('Boot Command')
    .fill('for i in 1 2 3 4 5; do echo "epoch $i/5 loss=0.$((9 - i)) val_top1 (0.$((5 + i)))"; sleep 1; done');
  await page.getByRole('textbox', { name: 'Data path' }).fill('obs://demo/data/');
  await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(`obs://demo/output/${name}/`);

  // A catastrophic pattern is refused on the field before anything is sent.
  await page.getByRole('button', { name: 'Add Metric' }).click();
  await page.getByLabel('Metric 1 name').fill('top1');
  await page.getByLabel('Metric 1 regular expression').fill('(a+)+');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText(/catastrophic backtracking/)).toBeVisible();
  await page.getByLabel('Metric 1 regular expression').fill('val_top1 \\(([0-9.]+)\\)');
  await snap(page, testInfo, 'wizard-metrics-field');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();

  const summary = page.getByRole('region', { name: 'Job parameters' });
  await expect(summary.getByText('top1: val_top1 \\(([0-9.]+)\\)')).toBeVisible();
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V001$`));

  await page.getByRole('tab', { name: 'Metrics' }).click();
  // The table of latest values fills in while the job runs (refetched every few seconds).
  const latest = page.getByRole('table', { name: 'Latest metric values' });
  await expect(latest.getByRole('row', { name: /^top1 0 5 0\.1 5$/ })).toBeVisible({ timeout: 90_000 });
  await expect(latest.getByRole('row', { name: /^loss 0 5 0\.4 5$/ })).toBeVisible();
  for (const metric of ['top1', 'loss']) {
    const chart = page.getByRole('img', { name: `Metric ${metric}`, exact: true });
    await expect(chart).toBeVisible();
    await expect(chart.locator('canvas')).toHaveCount(1);
  }
  await expect(page.getByRole('link', { name: 'Download CSV' })).toHaveAttribute(
    'href',
    `/api/v1/training-jobs/${name}/versions/V001/metrics.csv`,
  );
  await snap(page, testInfo, 'detail-metrics');
  expect(errors).toEqual([]);
});

test('an ended job’s metric definitions can be edited: its stored log is read again and charted', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  const name = `metrics-edit-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name,
      algorithm: {
        source: 'custom',
        imagePath: 'demo/linreg-train:1.0',
        codeDir: 'obs://demo/code/linreg/',
        bootCommand: 'for i in 1 2 3; do echo "epoch $i top5 [0.$((6 + i))]"; done',
      },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);
  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });

  // The Metrics tab by its link; nothing in the log is a name=value pair, so nothing is charted yet.
  await page.goto(`/jobs/${name}/V001?tab=metrics`);
  await expect(page.getByTestId('metrics-empty')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Edit metric definitions' }).click();
  const dialog = page.getByRole('dialog', { name: `Metric definitions of ${name} V001` });
  await dialog.getByRole('button', { name: 'Add Metric' }).click();
  await dialog.getByLabel('Metric 1 name').fill('top5');
  // Refused on the field before anything is sent.
  await dialog.getByLabel('Metric 1 regular expression').fill('(a+)+');
  await dialog.getByRole('button', { name: 'Save and re-read the log' }).click();
  await expect(dialog.getByText(/catastrophic backtracking/)).toBeVisible();
  await dialog.getByLabel('Metric 1 regular expression').fill('top5 \\[([0-9.]+)\\]');
  await snap(page, testInfo, 'metrics-edit-definitions');
  await dialog.getByRole('button', { name: 'Save and re-read the log' }).click();
  await expect(dialog).toHaveCount(0);

  const latest = page.getByRole('table', { name: 'Latest metric values' });
  await expect(latest.getByRole('row', { name: /^top5 0 \S+ 0\.9 3$/ })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Metric top5', exact: true }).locator('canvas')).toHaveCount(1);
  // The job's own spec now holds them: after a reload the editor opens with them.
  await page.reload();
  await page.getByRole('button', { name: 'Edit metric definitions' }).click();
  await expect(dialog.getByLabel('Metric 1 regular expression')).toHaveValue('top5 \\[([0-9.]+)\\]');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await snap(page, testInfo, 'metrics-edited');
  expect(errors).toEqual([]);
});
