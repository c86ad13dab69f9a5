import { expect, test, type Locator } from '@playwright/test';
import { snap } from './support';

// Errors come from the contracts' schemas in the browser and from the server; either way they
// must sit on the field they are about, and Next must not move on while a step has one.

/** The error text Mantine shows under a field (linked by aria-describedby). */
async function errorOf(field: Locator): Promise<string> {
  const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => field.page().locator(`[id="${id}"]`).textContent()));
  return texts.filter((t): t is string => !!t && t.trim() !== '').join(' | ');
}

test('empty required fields and an output path inside the data path are shown on their fields', async ({ page }, testInfo) => {
  await page.goto('/jobs/new');
  const next = page.getByRole('button', { name: 'Next' });

  // Basic information: Next on an empty Name stays on the step and says why, on Name.
  const name = page.getByRole('textbox', { name: 'Name', exact: true });
  await next.click();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  expect(await errorOf(name)).toContain('Name is required');
  await expect(page.getByRole('region', { name: 'Basic information' })).toBeVisible();
  await snap(page, testInfo, 'validation-1-name-required');

  // Shown on blur too, and gone once fixed.
  await name.fill('9starts-with-a-digit');
  await name.blur();
  await expect.poll(() => errorOf(name)).toContain('must start with a letter');
  await name.fill('validation-walk');
  await name.blur();
  await expect(name).not.toHaveAttribute('aria-invalid', 'true');
  await next.click();

  // Job parameters: every required field empty.
  await expect(page.getByRole('region', { name: 'Job parameters' })).toBeVisible();
  await next.click();
  const image = page.getByRole('combobox', { name: 'Image Path' });
  const code = page.getByRole('textbox', { name: 'Code Directory', exact: true });
  const boot = page.getByRole('textbox', { name: 'Boot Command' });
  const data = page.getByRole('textbox', { name: 'Data path', exact: true });
  const output = page.getByRole('textbox', { name: 'Training Output Path', exact: true });
  for (const field of [image, code, boot, data, output]) await expect(field).toHaveAttribute('aria-invalid', 'true');
  expect(await errorOf(image)).toContain('Image Path is required');
  expect(await errorOf(boot)).toContain('Boot Command is required');
  await expect(page.getByRole('region', { name: 'Job parameters' })).toBeVisible();
  await snap(page, testInfo, 'validation-2-required-parameters');

  // The output inside the data directory is refused on Training Output Path, not elsewhere.
  await image.fill('demo/linreg-train:1.0');
  await code.fill('obs://demo/code/linreg/');
  await boot.fill('sh /home/work/user-job-dir/linreg/train.sh');
  await data.fill('obs://demo/data/');
  // Data Source switches to Dataset (its picker, or the empty state when other specs made none)
  // and back, keeping the path.
  await page.getByRole('radio', { name: 'Dataset' }).check();
  await expect(page.getByTestId('no-datasets').or(page.getByRole('combobox', { name: 'Dataset' }))).toBeVisible();
  await expect(data).toHaveCount(0);
  await page.getByRole('radio', { name: 'Data path' }).check();
  await expect(data).toHaveValue('obs://demo/data/');
  await output.fill('obs://demo/data/model/');
  await next.click();
  await expect.poll(() => errorOf(output)).toContain('must not be the data path or inside it');
  for (const field of [image, code, boot, data]) await expect(field).not.toHaveAttribute('aria-invalid', 'true');
  await snap(page, testInfo, 'validation-3-output-inside-data');

  // A reserved environment variable is refused on its row.
  await output.fill('obs://demo/output/validation-walk/');
  await page.getByRole('button', { name: 'Add Environment Variable' }).click();
  const envName = page.getByLabel('Environment Variable 1 name');
  await envName.fill('DLS_TASK_INDEX');
  await next.click();
  await expect.poll(() => errorOf(envName)).toContain('set by the platform');
  await snap(page, testInfo, 'validation-4-reserved-variable');
  await page.getByRole('button', { name: 'Remove Environment Variable 1' }).click();
  await next.click();
  await expect(page.getByRole('region', { name: 'Resources' })).toBeVisible();

  // Back keeps every value.
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(output).toHaveValue('obs://demo/output/validation-walk/');
  await expect(image).toHaveValue('demo/linreg-train:1.0');
  await page.getByRole('button', { name: 'Back' }).click();
  await expect(name).toHaveValue('validation-walk');
});

test("the server's 400 lands on its field: a Code Directory that does not exist", async ({ page }, testInfo) => {
  await page.goto('/jobs/new');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('server-check');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('combobox', { name: 'Image Path' }).fill('demo/linreg-train:1.0');
  const code = page.getByRole('textbox', { name: 'Code Directory', exact: true });
  await code.fill('obs://demo/code/no-such-folder/');
  await page.getByRole('textbox', { name: 'Boot Command' }).fill('true');
  await page.getByRole('textbox', { name: 'Data path', exact: true }).fill('obs://demo/data/');
  await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill('obs://demo/output/server-check/');
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('region', { name: 'Confirm' })).toBeVisible();
  await page.getByRole('button', { name: 'Submit' }).click();

  // The wizard goes back to the step with the field, and the server's message sits on it.
  await expect(page.getByRole('region', { name: 'Job parameters' })).toBeVisible();
  await expect(code).toHaveAttribute('aria-invalid', 'true');
  await expect.poll(() => errorOf(code)).not.toBe('');
  await expect(page.getByRole('alert').filter({ hasText: 'The job was not created' })).toBeVisible();
  await snap(page, testInfo, 'validation-5-server-error-on-field');
  await expect(page).toHaveURL(/\/jobs\/new$/);
});
