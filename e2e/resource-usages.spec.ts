import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

test('a finished job shows its nodes’ resource usage as charts, loaded only when the tab opens', async ({ page, request }, testInfo) => {
  test.setTimeout(150_000);
  const errors = consoleErrors(page);
  const name = `usage-${uniqueSuffix()}`;
  // Busy for 16 s: with the console's default 5 s step, a few samples are taken.
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name,
      algorithm: {
        source: 'custom',
        imagePath: 'demo/linreg-train:1.0',
        codeDir: 'obs://demo/code/linreg/',
        bootCommand: "timeout 16 sh -c 'while :; do :; done'; echo burnt",
      },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);

  const charts: string[] = [];
  page.on('request', (r) => /UPlotChart/.test(r.url()) && charts.push(r.url()));
  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 90_000 });
  // The charting library is not part of the page until its tab is opened.
  expect(charts).toEqual([]);

  await page.getByRole('tab', { name: 'Resource Usages' }).click();
  const node0 = page.getByRole('region', { name: /^Resource usage of Node 0/ });
  await expect(node0).toBeVisible();
  for (const chart of ['CPU', 'Memory', 'Network', 'Disk I/O']) {
    const figure = node0.getByRole('img', { name: chart, exact: true });
    await expect(figure).toBeVisible();
    await expect(figure.locator('canvas')).toHaveCount(1);
  }
  expect(charts.length).toBeGreaterThan(0);
  // Each chart's legend names its lines.
  await expect(node0.getByRole('img', { name: 'CPU', exact: true })).toContainText('CPU %');
  await expect(node0.getByRole('img', { name: 'Memory', exact: true })).toContainText('Limit');
  await snap(page, testInfo, 'detail-resource-usages');
  expect(errors).toEqual([]);
});
