import type { Locator, Page } from '@playwright/test';
import { ADMIN } from './auth';
import { expect, test } from './fixtures';
import { ARREARS, urlOf } from './servers';
import { consoleErrors, snap, uniqueSuffix } from './support';

// The Budget page, on the run's main console (no budget: unlimited) with a job this spec runs,
// and the "account in arrears" rule on a second console started with BUDGET_CORE_HOURS=0
// (playwright.config.ts), where the wizard's submit is refused with 402.

/** The page's core-hour format: 0, two significant digits below 0.01, else two decimals. */
function coreHours(n: number): string {
  if (n === 0) return '0';
  if (Math.abs(n) < 0.01) return String(+n.toPrecision(2));
  return n.toFixed(2);
}

/** The page's duration format (`formatSeconds`): `0.4s`, `45.0s`, `3m 07s`, `2h 05m`, `3d 4h`. */
function runTime(total: number): string {
  if (Math.max(0, total) < 60) return `${(Math.floor(Math.max(0, total) * 10) / 10).toFixed(1)}s`;
  const s = Math.floor(total);
  const pad = (n: number) => String(n).padStart(2, '0');
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad(m)}m`;
  return `${m}m ${pad(s % 60)}s`;
}

interface Consumption {
  name: string;
  version: string;
  status: string | null;
  flavor: string;
  vcpus: number;
  nodes: number;
  hours: number;
  coreHours: number;
}

/** The value a figure card (Budget, Used, Balance) shows: its label, then the value, then a hint. */
function figure(page: Page, label: string): Locator {
  return page.getByRole('region', { name: label }).locator('p').nth(1);
}

/** The core-hours a figure shows as a number ("0.0012 core-hours" → 0.0012). */
async function figureHours(page: Page, label: string): Promise<number> {
  const text = await figure(page, label).innerText();
  expect(text).toMatch(/^[\d.]+ core-hours$/);
  return Number(text.replace(' core-hours', ''));
}

test('the Budget page shows limit, used and balance, and what each job consumed', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const job = `budget-${uniqueSuffix()}`;
  // The demo job (as `npm start` prints it), under a name of this spec.
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name: job,
      algorithm: {
        source: 'custom',
        imagePath: 'demo/linreg-train:1.0',
        codeDir: 'obs://demo/code/linreg/',
        bootCommand: 'sh /home/work/user-job-dir/linreg/train.sh',
      },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${job}/`,
      env: [{ name: 'EPOCHS', value: '5' }],
      logPath: `obs://demo/logs-${job}/`,
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  await expect
    .poll(async () => (await (await request.get(`/api/v1/training-jobs/${job}/versions/V001`)).json()).status, { timeout: 60_000 })
    .toBe('Successful');

  // What the API metered for it: run time × 1 node × the flavor's vCPUs.
  const { items } = (await (await request.get('/api/v1/budget/jobs?pageSize=100')).json()) as { items: Consumption[] };
  const mine = items.find((j) => j.name === job && j.version === 'V001')!;
  expect(mine).toMatchObject({ status: 'Successful', nodes: 1 });
  expect(mine.coreHours).toBeGreaterThan(0);
  expect(mine.coreHours).toBeCloseTo(mine.hours * mine.vcpus * mine.nodes, 9);

  const errors = consoleErrors(page);
  await page.goto('/');
  await page.getByRole('link', { name: 'Budget', exact: true }).click();
  await expect(page).toHaveURL(/\/budget$/);
  await expect(page.getByRole('heading', { name: 'Budget', level: 1 })).toBeVisible();

  // This console has no budget: unlimited, no balance, never in arrears.
  await expect(figure(page, 'Budget')).toHaveText('Unlimited');
  await expect(page.getByRole('region', { name: 'Budget' })).toContainText('No budget configured');
  await expect(page.getByRole('region', { name: 'Used' })).toContainText(/core-hours\s*as of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  await expect(figure(page, 'Balance')).toHaveText('—');
  await expect(page.getByRole('region', { name: 'Balance' })).toContainText(/1 GPU-hour counts as \d+ core-hours/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  // Used is at least what this job consumed.
  const used = await figureHours(page, 'Used');
  expect(used).toBeGreaterThanOrEqual(Number(coreHours(mine.coreHours)));

  // The job is among the top consumers and in the full list, with the figures the API metered.
  const expectRow = async (table: string) => {
    const row = page
      .getByRole('table', { name: table })
      .getByRole('row')
      .filter({ hasText: `${job} V001` });
    await expect(row).toHaveCount(1);
    const cells = row.getByRole('cell');
    await expect(cells.nth(0).getByRole('link', { name: `${job} V001` })).toBeVisible();
    await expect(cells.nth(1).locator('[data-status]')).toHaveAttribute('data-status', 'Successful');
    await expect(cells.nth(2)).toContainText(`${mine.flavor} × 1`);
    await expect(cells.nth(2)).toContainText(`${mine.vcpus} vCPU`);
    await expect(cells.nth(3)).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await expect(cells.nth(4)).toHaveText(runTime(mine.hours * 3600));
    await expect(cells.nth(5)).toHaveText(coreHours(mine.coreHours));
  };
  await expectRow('Top consumers');
  await expectRow('Consumption per job');
  await snap(page, testInfo, 'budget-unlimited');

  // The job's link opens it.
  await page
    .getByRole('table', { name: 'Consumption per job' })
    .getByRole('link', { name: `${job} V001` })
    .click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${job}/V001$`));

  await expect(page.getByRole('heading', { name: `${job} V001` })).toBeVisible();

  // Deleting the job does not refund it: its consumption stays, marked Deleted. (Away from the
  // job's page first, which would otherwise ask for the job it shows after it is gone.)
  await page.getByRole('link', { name: 'Budget', exact: true }).click();
  await expect(page.getByRole('table', { name: 'Consumption per job' })).toBeVisible();
  expect((await request.delete(`/api/v1/training-jobs/${job}/versions/V001`)).status()).toBeLessThan(300);
  await page.reload();
  const gone = page
    .getByRole('table', { name: 'Consumption per job' })
    .getByRole('row')
    .filter({ hasText: `${job} V001` });
  await expect(gone.getByText('Deleted', { exact: true })).toBeVisible();
  await expect(gone.getByRole('link')).toHaveCount(0);
  await expect(gone.getByRole('cell').nth(5)).toHaveText(coreHours(mine.coreHours));
  expect(await figureHours(page, 'Used')).toBeGreaterThanOrEqual(used);
  await snap(page, testInfo, 'budget-deleted-job-still-counts');
  expect(errors).toEqual([]);
});

test('an account in arrears: the wizard shows the refusal, no job is made, and the Budget page says so', async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const base = urlOf(ARREARS);
  const job = `arrears-${uniqueSuffix()}`;
  // A console of its own (BUDGET_CORE_HOURS=0), signed in there through its sign-in page.
  const context = await browser.newContext({ baseURL: base, storageState: { cookies: [], origins: [] } });
  try {
    const page = await context.newPage();
    await page.goto('/jobs/new');
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

    // The demo job, filled in the wizard as wizard.spec.ts does.
    await page.goto('/jobs/new');
    await expect(page.getByRole('heading', { name: 'Create Training Job', level: 1 })).toBeVisible();
    await page.getByLabel('Name').fill(job);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
    await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
    await page.getByLabel('Boot Command').fill('sh /home/work/user-job-dir/linreg/train.sh');
    await expect(page.getByRole('radio', { name: 'Data path' })).toBeChecked();
    await page.getByRole('textbox', { name: 'Data path' }).fill('obs://demo/data/');
    await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(`obs://demo/output/${job}/`);
    await page.getByRole('textbox', { name: 'Job Log Path', exact: true }).fill('obs://demo/logs/');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('combobox', { name: 'Resource Pool' })).toHaveValue(/public/);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await expect(page.getByRole('region', { name: 'Basic information' }).getByText(job)).toBeVisible();

    // Submit: the server refuses with 402 in_arrears, and the wizard shows why.
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/training-jobs'));
    await page.getByRole('button', { name: 'Submit' }).click();
    const refused = await answer;
    expect(refused.status()).toBe(402);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBe('in_arrears');
    const alert = page.getByRole('alert').filter({ hasText: 'The job was not created' });
    await expect(alert).toBeVisible();
    // The server's message, as a sentence (capital first).
    await expect(alert).toContainText('The account is in arrears');
    await expect(alert).toContainText(body.message.slice(1));
    await expect(alert).toContainText('BUDGET_CORE_HOURS');
    // The wizard stays where it was, with everything filled in, ready once the budget is raised.
    await expect(page).toHaveURL(/\/jobs\/new$/);
    await expect(page.getByRole('button', { name: 'Submit' })).toBeEnabled();
    await snap(page, testInfo, 'wizard-in-arrears');

    // No job was made: not in the API, not on the list.
    const jobs = (await (await context.request.get(`${base}/api/v1/training-jobs`)).json()) as { total: number };
    expect(jobs.total).toBe(0);
    expect((await context.request.get(`${base}/api/v1/training-jobs/${job}/versions/V001`)).status()).toBe(404);
    await page.getByRole('link', { name: 'Training Jobs' }).first().click();
    await expect(page.getByRole('heading', { name: 'No training jobs yet' })).toBeVisible();

    // The Budget page there: a limit of 0, nothing used, a balance of 0, in arrears.
    await page.getByRole('link', { name: 'Budget', exact: true }).click();
    await expect(page).toHaveURL(/\/budget$/);
    const arrears = page.getByRole('alert');
    await expect(arrears).toContainText('The account is in arrears');
    await expect(arrears).toContainText('new training jobs are refused');
    await expect(figure(page, 'Budget')).toHaveText('0 core-hours');
    await expect(figure(page, 'Used')).toHaveText('0 core-hours');
    await expect(figure(page, 'Balance')).toHaveText('0 core-hours');
    await expect(page.getByRole('heading', { name: 'No job has run yet' })).toBeVisible();
    const summary = (await (await context.request.get(`${base}/api/v1/budget`)).json()) as Record<string, unknown>;
    expect(summary).toMatchObject({ limitCoreHours: 0, usedCoreHours: 0, balanceCoreHours: 0, inArrears: true });
    await snap(page, testInfo, 'budget-in-arrears');
  } finally {
    await context.close();
  }
});
