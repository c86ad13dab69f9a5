import { expect, test } from './fixtures';
import { snap, uniqueSuffix } from './support';

// Versions are one job (issue 16, item 3): one list row per name, "Select Version" on its page,
// a new version writes to a folder of its own, and step 1 says when a name makes a new version.
const base = {
  algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'echo hi' },
  data: { source: 'path', path: 'obs://demo/data/' },
};

test('a job with two versions is one row; its page switches versions; a new version gets a fresh output folder', async ({
  page,
  request,
}, testInfo) => {
  const name = `ver-${uniqueSuffix()}`;
  for (const version of ['V001', 'V002']) {
    const created = await request.post('/api/v1/training-jobs', { data: { ...base, name, trainOutput: `obs://demo/output/${name}/` } });
    expect(created.status()).toBe(201);
    expect((await created.json()).version).toBe(version);
  }

  await page.goto('/jobs');
  await page.getByLabel('Search by name').fill(name);
  const table = page.getByRole('table', { name: 'Training jobs' });
  await expect(table.locator(`tr[data-job="${name}/V002"]`)).toBeVisible();
  await expect(table.locator('tbody tr')).toHaveCount(1);
  await expect(table.locator(`tr[data-job="${name}/V002"]`)).toContainText('2 versions');
  await snap(page, testInfo, 'one-row-per-job');

  await table.getByRole('link', { name, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V002$`));
  const select = page.getByRole('combobox', { name: 'Select Version' });
  await expect(select).toHaveValue('V002');
  await select.click();
  await page.getByRole('option', { name: 'V001', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${name}/V001$`));
  await expect(page.getByRole('heading', { name: `${name} V001` })).toBeVisible();

  // The next version of V001 is V003, and its output does not land on the earlier model.
  await page.getByRole('link', { name: `Create new version of ${name} V001` }).click();
  await expect(page.getByRole('textbox', { name: 'Version', exact: true })).toHaveValue('V003');
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('textbox', { name: 'Training Output Path', exact: true })).toHaveValue(`obs://demo/output/${name}/V003/`);
  await snap(page, testInfo, 'new-version-output-folder');
});

test('step 1 says that an existing name makes its next version, and shows V001 for a new name', async ({ page, request }, testInfo) => {
  const name = `ver-${uniqueSuffix()}`;
  expect(
    (await request.post('/api/v1/training-jobs', { data: { ...base, name, trainOutput: `obs://demo/output/${name}/` } })).status(),
  ).toBe(201);

  await page.goto('/jobs/new');
  const version = page.getByRole('textbox', { name: 'Version', exact: true });
  await expect(version).toHaveValue('V001');
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(name);
  await expect(page.getByText(`Submit creates its next version, V002.`)).toBeVisible();
  await expect(version).toHaveValue('V002');
  await snap(page, testInfo, 'existing-name-next-version');

  await page.getByRole('textbox', { name: 'Name', exact: true }).fill(`${name}-new`);
  await expect(version).toHaveValue('V001');
  await expect(page.getByText('Submit creates its next version')).toHaveCount(0);
});
