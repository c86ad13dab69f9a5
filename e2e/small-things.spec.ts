import { execFileSync } from 'node:child_process';
import type { Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures';
import { snap, uniqueSuffix } from './support';

// The small things users noticed (issue 16, item 8), each as the user meets it.

function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}
const base = {
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/' },
  data: { source: 'path', path: 'obs://demo/data/' },
};

test('a short finished job: its duration in seconds with a decimal, its log opened at the top', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const name = `short-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: 'seq 1 300 | sed "s/^/row /"' },
      trainOutput: `obs://demo/output/${name}/`,
    },
  });
  expect(created.status()).toBe(201);
  await expect
    .poll(async () => ((await (await request.get(`/api/v1/training-jobs/${name}/versions/V001`)).json()) as { status: string }).status, {
      timeout: 60_000,
    })
    .toBe('Successful');

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.getByRole('heading', { name: `${name} V001` })).toBeVisible();
  await expect(page.getByText(/^\d{1,2}\.\ds$/).first()).toBeVisible();
  await expect(page.getByText(/^0s$/)).toHaveCount(0);

  // The log of a finished job starts at its first line, not scrolled to its end.
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(page.getByText(/^\d{3} lines$/)).toBeVisible({ timeout: 30_000 });
  await expect(log.getByText('row 1', { exact: true })).toBeVisible();
  expect(await log.evaluate((el) => el.scrollTop)).toBe(0);
  await expect(page.getByRole('switch', { name: 'Follow' })).not.toBeChecked();
  await snap(page, testInfo, 'short-job-log-at-top');
});

test('an unknown address says the page was not found', async ({ page }, testInfo) => {
  await page.goto('/no-such-page/here');
  await expect(page.getByRole('heading', { name: 'Page not found', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/no-such-page\/here$/);
  await expect(page).toHaveTitle(/Page not found/);
  await page.getByRole('link', { name: 'Go to Training Jobs' }).click();
  await expect(page).toHaveURL(/\/jobs$/);
  await snap(page, testInfo, 'not-found');
});

test('wizard messages: a new environment row is quiet, an empty path "is required", every message starts with a capital', async ({
  page,
}, testInfo) => {
  await page.goto('/jobs/new');
  await page.getByLabel('Name').fill(`msgs-${uniqueSuffix()}`);
  await page.getByRole('button', { name: 'Next' }).click();

  // A row just added has nothing typed yet: no error on it.
  await page.getByRole('button', { name: 'Add Environment Variable' }).click();
  const rowName = page.getByLabel('Environment Variable 1 name');
  await expect(rowName).toBeFocused();
  await expect(rowName).not.toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText(/is required/)).toHaveCount(0);
  await snap(page, testInfo, 'messages-1-new-row-quiet');

  // Next with everything empty: each field says what is wrong, as a sentence.
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Training Output Path is required')).toBeVisible();
  await expect(page.getByText('Code Directory is required')).toBeVisible();
  await expect(page.getByText('Data path is required')).toBeVisible();
  const errors = await page.locator('.mantine-InputWrapper-error').allTextContents();
  expect(errors.length).toBeGreaterThan(3);
  for (const e of errors) expect(e, `"${e}" starts with a capital`).toMatch(/^[A-Z]/);
  await snap(page, testInfo, 'messages-2-required');
});

test('the audit log says what each request did beside its route', async ({ page, request }, testInfo) => {
  test.setTimeout(90_000);
  const name = `ux-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: { ...base, name, algorithm: { ...base.algorithm, bootCommand: 'sleep 120' }, trainOutput: `obs://demo/output/${name}/` },
  });
  expect(created.status()).toBe(201);
  expect((await request.post(`/api/v1/training-jobs/${name}/versions/V001/stop`)).status()).toBeLessThan(300);

  await page.goto('/admin/audit-log');
  const table = page.getByRole('table', { name: 'Audit log' });
  const stopped = table.getByRole('row').filter({ hasText: `Stopped job ${name} V001` });
  await expect(stopped).toBeVisible();
  await expect(stopped).toContainText('POST /api/v1/training-jobs/:name/versions/:version/stop');
  await expect(table.getByRole('row').filter({ hasText: `Created job ${name}` })).toBeVisible();
  await snap(page, testInfo, 'audit-log-readable');
});

test('a distributed job: the node picker is wide enough for its names', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const name = `nodes-${uniqueSuffix()}`;
  const pools = (await (await request.get('/api/v1/resource-pools')).json()) as {
    items: { id: string; flavors: { id: string; type: string; vcpus: number }[] }[];
  };
  const pool = pools.items.find((p) => p.id === 'public')!;
  const flavor = [...pool.flavors].filter((f) => f.type === 'CPU').sort((a, b) => a.vcpus - b.vcpus)[0]!;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      ...base,
      name,
      algorithm: { ...base.algorithm, bootCommand: 'echo node $RANK' },
      trainOutput: `obs://demo/output/${name}/`,
      resources: { pool: pool.id, type: 'CPU', flavor: flavor.id, nodes: 2 },
    },
  });
  expect(created.status()).toBe(201);
  await page.goto(`/jobs/${name}/V001`);
  const picker = page.getByRole('combobox', { name: 'Node' });
  await expect(picker).toBeVisible({ timeout: 30_000 });
  await expect(picker).toHaveValue(/^Node 0 \(.+\)$/);
  const { scroll, client } = await picker.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  expect(scroll, 'the chosen node name fits in the picker').toBeLessThanOrEqual(client);
  await snap(page, testInfo, 'node-picker');
  await request.post(`/api/v1/training-jobs/${name}/versions/V001/stop`);
});

test('the Images page filters by name and hides images no job uses', async ({ page, request }, testInfo) => {
  test.setTimeout(90_000);
  // A job that names the demo image, so the demo image is "used".
  const name = `img-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: { ...base, name, algorithm: { ...base.algorithm, bootCommand: 'true' }, trainOutput: `obs://demo/output/${name}/` },
  });
  expect(created.status()).toBe(201);

  // An image no job names or ran: the demo image with a label, so an ID of its own (built offline).
  const unused = `e2e-unused-${uniqueSuffix()}:1`;
  docker(['build', '-q', '-t', unused, '-'], `FROM demo/linreg-train:1.0\nLABEL tc.e2e.tag="${unused}"\n`);
  try {
    await imagesPage(page, unused, testInfo);
  } finally {
    docker(['rmi', unused]);
  }
});

async function imagesPage(page: Page, unused: string, testInfo: TestInfo) {
  await page.goto('/images');
  const table = page.getByRole('table', { name: 'Images' });
  const demo = table.getByRole('row').filter({ hasText: 'demo/linreg-train:1.0' });
  await expect(demo).toBeVisible();
  const all = await table.getByRole('row').count();

  await page.getByLabel('Filter by name').fill('linreg-train');
  await expect(demo).toBeVisible();
  for (const row of await table.getByRole('row').all()) {
    const text = (await row.textContent()) ?? '';
    if (!text.includes('Repository')) expect(text).toContain('linreg-train');
  }
  await page.getByLabel('Filter by name').fill('zz-no-image-is-called-this');
  await expect(page.getByTestId('no-matching-images')).toBeVisible();
  await page.getByLabel('Filter by name').fill('');

  const spare = table.getByRole('row').filter({ hasText: unused });
  await expect(spare).toBeVisible();
  await page.getByRole('switch', { name: 'Only images that jobs use' }).check();
  await expect(demo).toBeVisible();
  await expect(spare).toHaveCount(0);
  const used = await table.getByRole('row').all();
  for (const row of used.slice(1)) expect(Number(await row.getByRole('cell').nth(5).textContent())).toBeGreaterThan(0);
  expect(used.length).toBeLessThanOrEqual(all);
  await snap(page, testInfo, 'images-used-only');
}
