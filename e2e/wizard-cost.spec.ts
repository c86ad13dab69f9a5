import { CSRF_HEADER, type Session } from '@tc/contracts';
import { ADMIN } from './auth';
import { expect, test } from './fixtures';
import { BUDGETED, urlOf } from './servers';
import { consoleErrors, snap, uniqueSuffix } from './support';

// The Confirm step's cost estimate against the balance, on a console with a budget of 1
// core-hour (playwright.config.ts): the wizard blocks Submit, and the API refuses the same job.

test('the Confirm step shows the estimate beside the balance and blocks a job the balance cannot cover', async ({ browser }, testInfo) => {
  test.setTimeout(90_000);
  const name = `cost-${uniqueSuffix()}`;
  const context = await browser.newContext({ baseURL: urlOf(BUDGETED), storageState: { cookies: [], origins: [] } });
  try {
    const page = await context.newPage();
    await page.goto('/jobs/new');
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign In' }).click();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
    // From here on (the sign-in page's own 401 is expected).
    const errors = consoleErrors(page);

    await page.goto('/jobs/new');
    await page.getByLabel('Name').fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
    await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
    await page.getByLabel('Boot Command').fill('echo cheap');
    await page.getByRole('textbox', { name: 'Data path' }).fill('obs://demo/data/');
    await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(`obs://demo/output/${name}/`);
    const maxRuntime = page.getByRole('textbox', { name: 'Max Running Time (minutes)' });
    // No max running time: no estimate, nothing blocked.
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
    const resources = page.getByRole('region', { name: 'Resources' });
    await expect(resources.getByRole('row', { name: /^Estimated Cost/ })).toContainText('No estimate without a max running time');
    await expect(resources.getByRole('row', { name: /^Budget Balance/ })).toContainText('1 core-hours');
    await expect(page.getByRole('button', { name: 'Submit' })).toBeEnabled();

    // 1 node × 1 vCPU × 2 h = 2 core-hours: more than the balance of 1.
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByRole('button', { name: 'Back' }).click();
    await maxRuntime.fill('120');
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
    await expect(resources.getByRole('row', { name: /^Estimated Cost/ })).toContainText('up to 2 core-hours (1 node × 1 vCPU × 2 h)');
    const refusal = page.getByRole('alert').filter({ hasText: 'The budget cannot cover this job' });
    await expect(refusal).toContainText("The job may use up to 2 core-hours but the budget's balance is 1");
    const submit = page.getByRole('button', { name: 'Submit' });
    await expect(submit).toBeDisabled();
    await expect(submit).toHaveAttribute('aria-describedby', (await refusal.getAttribute('id')) ?? 'missing');
    await snap(page, testInfo, 'wizard-cost-refused');

    // The API refuses the same job, on the same field.
    const session = (await (await page.request.get('/api/v1/auth/session')).json()) as Session;
    const api = await page.request.post('/api/v1/training-jobs', {
      headers: { [CSRF_HEADER]: session.csrfToken },
      data: {
        name,
        algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'echo cheap' },
        data: { source: 'path', path: 'obs://demo/data/' },
        trainOutput: `obs://demo/output/${name}/`,
        maxRuntimeMinutes: 120,
      },
    });
    expect(api.status()).toBe(400);
    expect(((await api.json()) as { fields: { path: string }[] }).fields.map((f) => f.path)).toEqual(['maxRuntimeMinutes']);

    // 30 minutes: 0.5 core-hours, covered; the job is created.
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Back' }).click();
    await maxRuntime.fill('30');
    for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
    await expect(resources.getByRole('row', { name: /^Estimated Cost/ })).toContainText('up to 0.5 core-hours');
    await expect(refusal).toHaveCount(0);
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V001$`));
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  } finally {
    await context.close();
  }
});
