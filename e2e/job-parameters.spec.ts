import { expect, test } from './fixtures';
import { snap, uniqueSuffix } from './support';

// Job Parameters edited with the wizard's own steps, saved from a finished job, and applied by
// One-Click Configuration (issue 16, items 4 and 5).
const parameters = {
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'echo params' },
  data: { source: 'path', path: 'obs://demo/data/' },
  trainOutput: 'obs://demo/output/params/',
  env: [{ name: 'EPOCHS', value: '20' }],
};

test('Edit opens the wizard’s steps with the name fixed, and every rule of the wizard applies', async ({ page, request }, testInfo) => {
  const name = `set-${uniqueSuffix()}`;
  expect((await request.post('/api/v1/training-job-configs', { data: { name, description: 'twenty', parameters } })).status()).toBe(201);

  await page.goto('/job-parameters');
  await page.getByLabel('Search by name').fill(name);
  await page.getByRole('link', { name: `Edit ${name}` }).click();
  await expect(page).toHaveURL(new RegExp(`/job-parameters/${name}/edit$`));
  const setName = page.getByRole('textbox', { name: 'Name', exact: true });
  await expect(setName).toHaveValue(name);
  await expect(setName).toHaveAttribute('readonly', '');
  await expect(page.getByLabel('Parameters (JSON)')).toHaveCount(0);
  await page.getByRole('textbox', { name: 'Description', exact: true }).fill('thirty');
  await page.getByRole('button', { name: 'Next' }).click();

  // The wizard's cross-field rule: output inside the data folder is refused on its field.
  const output = page.getByRole('textbox', { name: 'Training Output Path', exact: true });
  await expect(output).toHaveValue('obs://demo/output/params/');
  await output.fill('obs://demo/data/out/');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(output).toHaveAttribute('aria-invalid', 'true');
  await snap(page, testInfo, 'edit-set-rule');
  await output.fill('obs://demo/output/params-30/');
  await page.getByLabel('Environment Variable 1 value').fill('30');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('region', { name: 'Resources' })).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('region', { name: 'Notification' })).toBeVisible();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/job-parameters$/);

  const saved = await (await request.get(`/api/v1/training-job-configs/${name}`)).json();
  expect(saved).toMatchObject({
    name,
    description: 'thirty',
    parameters: { trainOutput: 'obs://demo/output/params-30/', env: [{ name: 'EPOCHS', value: '30' }] },
  });
});

test('a finished job offers Save Training Parameters, and One-Click Configuration says which set it applied', async ({
  page,
  request,
}, testInfo) => {
  const job = `saved-${uniqueSuffix()}`;
  const set = `from-${job}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: { ...parameters, name: job, trainOutput: `obs://demo/output/${job}/` },
  });
  expect(created.status()).toBe(201);

  await page.goto(`/jobs/${job}/V001`);
  await expect(page.locator(`[data-job="${job}/V001"] [data-status]`)).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Save Training Parameters' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Configuration Name' }).fill(set);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(`Saved as ${set} under Job Parameters.`)).toBeVisible();
  const saved = await (await request.get(`/api/v1/training-job-configs/${set}`)).json();
  expect(saved.parameters).toMatchObject({ trainOutput: `obs://demo/output/${job}/`, env: [{ name: 'EPOCHS', value: '20' }] });
  await snap(page, testInfo, 'saved-from-finished-job');

  await page.goto('/jobs/new');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(`${job}-b`);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('combobox', { name: 'One-Click Configuration' }).click();
  await page.getByRole('option', { name: set }).click();
  await expect(page.getByRole('combobox', { name: 'One-Click Configuration' })).toHaveValue(set);
  await expect(page.getByText(`Applied "${set}"`)).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Training Output Path', exact: true })).toHaveValue(`obs://demo/output/${job}/`);
  await snap(page, testInfo, 'one-click-applied');
});

test('Job Parameters and Notification Topics are built from the component kit; the webhook secret is not an error', async ({
  page,
  request,
}, testInfo) => {
  const set = `kit-${uniqueSuffix()}`;
  const topic = `kit-${uniqueSuffix()}`;
  expect((await request.post('/api/v1/training-job-configs', { data: { name: set, parameters } })).status()).toBe(201);

  await page.goto('/job-parameters');
  await expect(page.getByRole('table', { name: 'Job parameters' })).toBeVisible();
  // None of the raw page classes those two pages had of their own.
  await expect(page.locator('.page, .table, .banner, .state, .button, .muted')).toHaveCount(0);
  await page.getByLabel('Search by name').fill(set);
  // The search is debounced: wait for the filtered list before acting on its row.
  await expect(page.getByRole('table', { name: 'Job parameters' }).locator('tbody tr')).toHaveCount(1);
  await page.getByRole('button', { name: `Delete ${set}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('heading', { name: 'No configuration matches' })).toBeVisible();

  await page.goto('/notification-topics');
  const form = page.getByRole('form', { name: 'Create topic' });
  await form.getByRole('textbox', { name: 'Topic name' }).fill(topic);
  await form.getByRole('textbox', { name: 'Webhook URL (optional)' }).fill('ftp://example.com/');
  await form.getByRole('button', { name: 'Create topic' }).click();
  await expect(form.getByText('URL must start with http:// or https://')).toBeVisible();
  await form.getByRole('textbox', { name: 'Webhook URL (optional)' }).fill('https://hooks.example.com/kit');
  await form.getByRole('button', { name: 'Create topic' }).click();

  const secret = page.getByRole('status', { name: `Signing secret of ${topic}` });
  await expect(secret).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  // Not red: the box's colour leans to blue.
  const [r, , b] = await secret.evaluate((el) => (getComputedStyle(el).backgroundColor.match(/\d+/g) ?? []).map(Number));
  expect(b!).toBeGreaterThan(r!);
  await expect(page.locator('.page, .table, .banner, .state, .button, .muted, .code-block')).toHaveCount(0);
  await snap(page, testInfo, 'topic-secret');
  await secret.getByRole('button', { name: 'I have saved it' }).click();

  await page.getByRole('button', { name: `Delete ${topic}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete topic' }).click();
  await expect(page.getByRole('heading', { name: topic })).toHaveCount(0);
});
