import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

// The job page's log viewer: timestamps, "First error", every node by time, links to a tab and a line.
const base = {
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/' },
  data: { source: 'path', path: 'obs://demo/data/' },
};

test('timestamps, the first error, and every node’s lines by time, without moving the log', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  const name = `log-niceties-${uniqueSuffix()}`;
  const bootCommand = [
    'echo "start $DLS_TASK_INDEX"',
    'sleep 0.5',
    'if [ "$DLS_TASK_INDEX" = 1 ]; then echo "RuntimeError: node 1 broke" >&2; fi',
    'sleep 0.5',
    'echo "end $DLS_TASK_INDEX"',
  ].join('\n');
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand },
      trainOutput: `obs://demo/output/${name}/`,
      resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 2 },
    },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(log.getByText('end 0', { exact: true })).toBeVisible();
  const box = await log.boundingBox();

  // Timestamps: off at first, on with the switch, still on after a reload.
  await expect(log.locator('time')).toHaveCount(0);
  await page.getByRole('switch', { name: 'Timestamps' }).check();
  await expect(log.locator('time').first()).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
  expect(await log.boundingBox()).toEqual(box);
  await page.reload();
  await expect(page.getByRole('switch', { name: 'Timestamps' })).toBeChecked();
  await expect(log.locator('time').first()).toBeVisible();

  // Node 0 has no error line; every node together has node 1's.
  await expect(page.getByRole('button', { name: 'First error' })).toBeDisabled();
  await page.getByRole('combobox', { name: 'Node' }).click();
  await page.getByRole('option', { name: 'All nodes, by time' }).click();
  await expect(page).toHaveURL(/[?&]node=all/);
  await expect(log.getByText('end 1', { exact: true })).toBeVisible();
  await expect(log.getByText('end 0', { exact: true })).toBeVisible();
  expect(await log.boundingBox()).toEqual(box);
  // Each line says its node, and the lines are in time order.
  const startOf1 = log.locator('.log-line', { hasText: 'start 1' });
  await expect(startOf1.locator('.log-line__node')).toHaveText('[1]');
  const times = await log.locator('time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
  expect(times).toEqual([...times].sort((a, b) => a - b));

  await page.getByRole('button', { name: 'First error' }).click();
  const marked = log.locator('.log-line--target');
  await expect(marked).toHaveCount(1);
  await expect(marked).toContainText('RuntimeError: node 1 broke');
  await expect(marked).toBeInViewport();
  // The address now points at that line: opened anew, it is marked again.
  await expect(page).toHaveURL(/\?.*tab=logs.*#N1-L\d+$/);
  await snap(page, testInfo, 'log-all-nodes-first-error');
  await page.reload();
  await expect(log.locator('.log-line--target')).toContainText('RuntimeError: node 1 broke');
  expect(errors).toEqual([]);
});

test('a link to a tab and to a line of a long log opens there', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const name = `log-link-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: "seq 1 3000 | sed 's/^/row /'" },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);
  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });

  // A tab by its link.
  await page.goto(`/jobs/${name}/V001?tab=events`);
  await expect(page.getByRole('tab', { name: 'Events' })).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: 'Logs' }).click();
  await expect(page).toHaveURL(/[?&]tab=logs/);

  // A line by its link: scrolled to and marked, far from the top of the log.
  await page.goto(`/jobs/${name}/V001?tab=logs#L2500`);
  const log = page.getByRole('log', { name: 'Log lines' });
  const marked = log.locator('.log-line--target');
  await expect(marked).toHaveAttribute('data-seq', '2500');
  await expect(marked).toBeInViewport();
  await snap(page, testInfo, 'log-line-link');

  // Each line number is such a link.
  const link = log.getByRole('link', { name: 'Link to line 2490' });
  await expect(link).toHaveAttribute('href', new RegExp(`/jobs/${name}/V001\\?tab=logs&node=0#L2490$`));
  await link.click();
  await expect(page).toHaveURL(/#L2490$/);
  await expect(log.locator('.log-line--target')).toHaveAttribute('data-seq', '2490');
});
