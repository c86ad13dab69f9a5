import { expect, test } from './fixtures';
import { snap } from './support';

// Jobs made through the real API (the wizard has its own spec), then looked at in the console.
const base = {
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/' },
  data: { source: 'path', path: 'obs://demo/data/' },
};

test('a log of 100,000 lines with ANSI colours: all there, any line reachable, the DOM stays small', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(120_000);
  const name = `big-log-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: "printf '\\033[1;31mcoloured error\\033[0m plain\\n'; seq 1 100000 | sed 's/^/line /'" },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.getByRole('heading', { name: `${name} V001` })).toBeVisible();
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(page.getByText(/^1\d\d,\d{3} lines$/)).toBeVisible({ timeout: 30_000 });
  await expect(log.getByText('line 100000', { exact: true })).toBeVisible();

  // Only a window of rows is in the DOM, however long the log.
  expect(await log.locator('.log-line').count()).toBeLessThan(200);

  // Scrolling to the top and to the middle shows those lines at once.
  await page.getByRole('switch', { name: 'Follow' }).uncheck();
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  const red = log.getByText('coloured error');
  await expect(red).toBeVisible();
  expect(await red.evaluate((el) => getComputedStyle(el).color)).not.toBe(await log.evaluate((el) => getComputedStyle(el).color));
  await expect(log).not.toContainText('\u001b');
  const started = Date.now();
  await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
  await expect(log.getByText(/^line 5\d{4}$/).first()).toBeVisible();
  expect(Date.now() - started).toBeLessThan(2000);

  // Search narrows to the matching lines.
  await page.getByLabel('Search logs').fill('line 77777');
  await expect(log.getByText('line 77777', { exact: true })).toBeVisible();
  await expect(page.getByText('1 matching')).toBeVisible();
  await snap(page, testInfo, 'detail-100k-log-search');
});

test('stop a running job from its page, then create its next version prefilled', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const name = `stoppable-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: 'echo started; sleep 600' },
      trainOutput: `obs://demo/output/${name}/`,
      env: [{ name: 'EPOCHS', value: '7' }],
    },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  const status = page.locator('[data-status]').first();
  await expect(status).toHaveAttribute('data-status', 'Running', { timeout: 60_000 });
  await expect(page.getByRole('log', { name: 'Log lines' }).getByText('started')).toBeVisible();
  // While it runs, node 0 shows its finished download of code and data, and nothing else yet.
  const node0 = page.getByRole('list', { name: 'Compute nodes' }).getByRole('listitem').filter({ hasText: 'Node 0' });
  await expect(node0.getByText(/^Downloaded \d+ files?, \d/)).toBeVisible();
  await expect(node0.locator('[data-transfer]')).toHaveText([/^Downloaded /]);

  await page.getByRole('button', { name: `Stop ${name} V001` }).click();
  const dialog = page.getByRole('dialog', { name: `Stop ${name} V001?` });
  await snap(page, testInfo, 'detail-stop-confirmation');
  await dialog.getByRole('button', { name: 'Stop job' }).click();
  await expect(status).toHaveAttribute('data-status', /Stopping|Stopped/);
  await expect(status).toHaveAttribute('data-status', 'Stopped', { timeout: 60_000 });
  // Outputs are still uploaded after a stop: the download's line stays, the upload's comes under it.
  await expect(node0.locator('[data-transfer]')).toHaveText([/^Downloaded \d+ files?, \d/, /^Uploaded \d+ files?, \d/]);
  await expect(page.getByRole('progressbar', { name: /^Node 0 / })).toHaveCount(0);

  await page.getByRole('link', { name: `Create new version of ${name} V001` }).click();
  await expect(page).toHaveURL(/\/jobs\/new\?from=/);
  await expect(page.getByRole('textbox', { name: 'Name', exact: true })).toHaveValue(name);
  await expect(page.getByRole('textbox', { name: 'Version', exact: true })).toHaveValue('V002');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('textbox', { name: 'Boot Command' })).toHaveValue('echo started; sleep 600');
  await page.getByRole('textbox', { name: 'Boot Command' }).fill('echo second version');
  await expect(page.getByLabel('Environment Variable 1 value')).toHaveValue('7');
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
  await snap(page, testInfo, 'new-version-confirm');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V002$`));
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  await expect(page.getByRole('log', { name: 'Log lines' }).getByText('second version')).toBeVisible();

  // Delete is offered once the job has ended, and asks first.
  await page.getByRole('button', { name: `Delete ${name} V002` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete job' }).click();
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.locator(`tr[data-job="${name}/V002"]`)).toHaveCount(0);
  await expect(page.locator(`tr[data-job="${name}/V001"]`)).toBeVisible();
});

test('the list, the wizard and a job fit an 800 px wide window', async ({ page, request }, testInfo) => {
  const name = `narrow-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: { ...base, name, algorithm: { ...base.algorithm, bootCommand: 'echo narrow' }, trainOutput: `obs://demo/output/${name}/` },
  });
  expect(created.status()).toBe(201);
  await page.setViewportSize({ width: 800, height: 900 });
  for (const url of ['/jobs', '/jobs/new']) {
    await page.goto(url);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${url} scrolls sideways`).toBeLessThanOrEqual(0);
    await snap(page, testInfo, `800px${url.replaceAll('/', '-')}`);
  }
  // A job's page too (the specs above made some).
  await page.goto('/jobs');
  await page.getByRole('table', { name: 'Training jobs' }).getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('log', { name: 'Log lines' })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  await snap(page, testInfo, '800px-job-detail');
  // The sections are behind the menu button.
  await page.getByRole('button', { name: 'Open sections' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Training Jobs' }).click();
  await expect(page).toHaveURL(/\/jobs$/);

  // Keyboard only: Enter in a field moves to the next step.
  await page.goto('/jobs/new');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('keyboard-only');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('region', { name: 'Job parameters' })).toBeVisible();
});

test('a failed job shows why on its page and in the list', async ({ page, request }, testInfo) => {
  const name = `failing-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: "echo 'about to fail' >&2; exit 3" },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Running failed', { timeout: 60_000 });
  const why = page.getByRole('alert').filter({ hasText: 'Why it failed' });
  await expect(why).toContainText('code 3');
  await expect(page.getByRole('log', { name: 'Log lines' }).getByText('about to fail')).toBeVisible();
  await snap(page, testInfo, 'detail-failed');

  await page.getByRole('link', { name: 'Training Jobs' }).first().click();
  await expect(page.locator(`tr[data-job="${name}/V001"]`)).toContainText('code 3');
});

test('a distributed job has a log per node', async ({ page, request }, testInfo) => {
  const name = `two-nodes-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: 'echo "hello from node $DLS_TASK_INDEX of $DLS_TASK_NUMBER"' },
      trainOutput: `obs://demo/output/${name}/`,
      resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 2 },
    },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(log.getByText('hello from node 0 of 2')).toBeVisible();
  await page.getByRole('combobox', { name: 'Node' }).click();
  await page.getByRole('option', { name: /^Node 1/ }).click();
  await expect(log.getByText('hello from node 1 of 2')).toBeVisible();
  await expect(log.getByText('hello from node 0 of 2')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Download the log of node 1' })).toHaveAttribute('href', /node=1$/);
  await snap(page, testInfo, 'detail-node-1-log');
});

test('a running job’s log comes live by server-sent events, each line once, without polling', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const name = `live-log-${Date.now().toString(36)}`;
  // Twenty lines, then quiet until stopped; the stop makes it say goodbye and exit.
  const bootCommand = [
    "trap 'echo goodbye; exit 0' TERM",
    'for i in $(seq 1 20); do echo "tick $i"; sleep 0.05; done',
    'while true; do sleep 0.2; done',
  ].join('\n');
  const created = await request.post('/api/v1/training-jobs', {
    data: { ...base, name, algorithm: { ...base.algorithm, bootCommand }, trainOutput: `obs://demo/output/${name}/` },
  });
  expect(created.status()).toBe(201);
  const logRequests: string[] = [];
  page.on('request', (r) => {
    if (/\/logs(\/stream)?\?/.test(r.url())) logRequests.push(new URL(r.url()).pathname.split('/').slice(-2).join('/'));
  });

  await page.goto(`/jobs/${name}/V001`);
  const status = page.locator('[data-status]').first();
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(log.getByText('tick 20', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(status).toHaveAttribute('data-status', 'Running');
  await expect(page.getByText(/^\d+ lines · following$/)).toBeVisible();

  const stop = await request.post(`/api/v1/training-jobs/${name}/versions/V001/stop`);
  expect(stop.status()).toBe(200);
  await expect(log.getByText('goodbye', { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(status).toHaveAttribute('data-status', 'Stopped', { timeout: 60_000 });
  // The stream's end: the count is the stored log's, with no line twice.
  const stored = (await (await request.get(`/api/v1/training-jobs/${name}/versions/V001/logs?limit=5000`)).json()) as {
    lines: unknown[];
  };
  await expect(page.getByText(`${stored.lines.length} lines`, { exact: true })).toBeVisible();
  for (const text of ['tick 1', 'tick 7', 'tick 20', 'goodbye']) await expect(log.getByText(text, { exact: true })).toHaveCount(1);
  // One stream, and no polling of the logs API.
  expect(logRequests).toEqual(['logs/stream']);
  await snap(page, testInfo, 'detail-live-log');
});
