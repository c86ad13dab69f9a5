import { expect, test } from '@playwright/test';
import { consoleErrors, recordStatuses, recordedStatuses, snap } from './support';

// The demo (seeded by `main.ts --demo`): image demo/linreg-train:1.0, code in obs://demo/code/linreg/,
// data in obs://demo/data/. Everything below goes through the real server, engine and store.
const JOB = `linreg-e2e-${Date.now().toString(36)}`;
const OUTPUT = `obs://demo/output/${JOB}/`;

test('create the demo job in the wizard, watch it run, and find its logs and model', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  await page.goto('/jobs');
  await page.getByRole('link', { name: 'Create Training Job' }).click();
  await expect(page).toHaveURL(/\/jobs\/new$/);
  await expect(page.getByRole('heading', { name: 'Create Training Job', level: 1 })).toBeVisible();

  // 1. Basic information
  // A new name starts at V001 (an existing one would show its next version).
  await expect(page.getByLabel('Version')).toHaveValue('V001');
  await page.getByLabel('Name').fill(JOB);
  await page.getByLabel('Description').fill('linear regression, created by the e2e test');
  await snap(page, testInfo, 'step-1-basic-information');
  await page.getByRole('button', { name: 'Next' }).click();

  // 2. Job parameters, with the Select dialog for the code directory
  await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
  await page.getByRole('button', { name: 'Select Code Directory' }).click();
  const dialog = page.getByRole('dialog', { name: 'Select Code Directory' });
  await dialog.getByRole('button', { name: /^demo/ }).click();
  await dialog.getByRole('button', { name: /^code\// }).click();
  await dialog.getByRole('button', { name: /^linreg\// }).click();
  await expect(dialog.getByText('obs://demo/code/linreg/')).toBeVisible();
  await snap(page, testInfo, 'step-2-select-dialog');
  await dialog.getByRole('button', { name: 'Select this folder' }).click();
  await expect(page.getByRole('textbox', { name: 'Code Directory', exact: true })).toHaveValue('obs://demo/code/linreg/');

  // A sleep first keeps the job Running long enough for the list to show it on one of its polls.
  await page.getByLabel('Boot Command').fill('sleep 5; sh /home/work/user-job-dir/linreg/train.sh');
  await expect(page.getByRole('radio', { name: 'Data path' })).toBeChecked();
  await page.getByRole('textbox', { name: 'Data path' }).fill('obs://demo/data/');
  await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(OUTPUT);
  await page.getByRole('button', { name: 'Add Environment Variable' }).click();
  await page.getByLabel('Environment Variable 1 name').fill('EPOCHS');
  await page.getByLabel('Environment Variable 1 value').fill('25');

  // The Job Log Path gets a folder made in the Select dialog.
  await page.getByRole('button', { name: 'Select Job Log Path' }).click();
  const logDialog = page.getByRole('dialog', { name: 'Select Job Log Path' });
  await logDialog.getByRole('button', { name: /^demo/ }).click();
  await logDialog.getByLabel('New folder').fill(`logs-${JOB}`);
  await logDialog.getByRole('button', { name: 'Create folder' }).click();
  await expect(logDialog.getByText(`obs://demo/logs-${JOB}/`)).toBeVisible();
  await logDialog.getByRole('button', { name: 'Select this folder' }).click();
  await expect(page.getByRole('textbox', { name: 'Job Log Path', exact: true })).toHaveValue(`obs://demo/logs-${JOB}/`);
  await snap(page, testInfo, 'step-2-job-parameters');
  await page.getByRole('button', { name: 'Next' }).click();

  // 3. Resources: the public pool, CPU, its first flavor, 1 node
  await expect(page.getByRole('combobox', { name: 'Resource Pool' })).toHaveValue(/public/);
  await expect(page.getByRole('combobox', { name: 'Specifications' })).toHaveValue(/cpu\./);
  await expect(page.getByLabel('Compute Nodes')).toHaveValue('1');
  await snap(page, testInfo, 'step-3-resources');
  await page.getByRole('button', { name: 'Next' }).click();

  // 4. Notification, and the parameters saved for later jobs
  await expect(page.getByRole('combobox', { name: 'Topic' })).toBeVisible();
  await page.getByLabel('Save Training Parameters').check();
  await page.getByLabel('Configuration Name').fill(`${JOB}-params`);
  await snap(page, testInfo, 'step-4-notification');
  await page.getByRole('button', { name: 'Next' }).click();

  // 5. Confirm: a read-only summary of everything
  const summary = page.getByRole('region', { name: 'Job parameters' });
  await expect(summary.getByText('demo/linreg-train:1.0')).toBeVisible();
  await expect(summary.getByText('EPOCHS=25')).toBeVisible();
  await expect(summary.getByText(OUTPUT)).toBeVisible();
  await expect(page.getByRole('region', { name: 'Basic information' }).getByText(JOB)).toBeVisible();
  await snap(page, testInfo, 'step-5-confirm');

  await recordStatuses(page, `${JOB}/V001`);
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${JOB}/V001$`));
  await expect(page.getByRole('heading', { name: `${JOB} V001` })).toBeVisible();

  // The list, reached without a reload, follows the job to the end on its own.
  await page.getByRole('link', { name: 'Training Jobs' }).first().click();
  const row = page.locator(`tr[data-job="${JOB}/V001"]`);
  await expect(row).toBeVisible();
  await expect(row.locator('[data-status]')).toHaveAttribute('data-status', 'Running', { timeout: 30_000 });
  await snap(page, testInfo, 'list-running');
  await expect(row.locator('[data-status]')).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  await snap(page, testInfo, 'list-successful');
  const seen = await recordedStatuses(page);
  testInfo.annotations.push({ type: 'statuses seen', description: seen.join(' → ') });
  const order = ['Queuing', 'Initializing', 'Running', 'Successful'];
  expect(seen.every((s) => order.includes(s))).toBe(true);
  expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort((a, b) => a - b));
  expect(seen).toEqual(expect.arrayContaining(['Initializing', 'Running', 'Successful']));

  // The detail page: the training's log lines and the model file in the Training Output Path.
  await row.getByRole('link', { name: JOB, exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/jobs/${JOB}/V001$`));
  const log = page.getByRole('log', { name: 'Log lines' });
  await expect(log.getByText('linreg: epochs=25')).toBeVisible();
  await expect(log.getByText(/epoch 25\/25 loss=/)).toBeVisible();
  // Node 0's transfers, both kept: the download of code and data, then the outputs' upload, each
  // with its totals, in that order, and no bar left.
  const node0 = page.getByRole('list', { name: 'Compute nodes' }).getByRole('listitem').filter({ hasText: 'Node 0' });
  await expect(node0.getByText(/^Downloaded \d+ files?, \d/)).toBeVisible();
  await expect(node0.getByText(/^Uploaded \d+ files?, \d/)).toBeVisible();
  await expect(node0.locator('[data-transfer]')).toHaveText([/^Downloaded /, /^Uploaded /]);
  await expect(page.getByRole('progressbar', { name: /^Node 0 / })).toHaveCount(0);
  await snap(page, testInfo, 'detail-logs');

  await page.getByRole('tab', { name: 'Events' }).click();
  await expect(
    page
      .getByRole('tabpanel')
      .getByText(/upload/i)
      .first(),
  ).toBeVisible();
  await snap(page, testInfo, 'detail-events');

  await page.getByRole('tab', { name: 'Outputs' }).click();
  const files = page.getByRole('table', { name: 'Output files' });
  await expect(files.getByRole('cell', { name: 'model.json', exact: true })).toBeVisible();
  await snap(page, testInfo, 'detail-output-files');

  // The saved parameters fill a new job's wizard (One-Click Configuration).
  await page.goto('/jobs/new');
  await page.getByLabel('Name').fill(`${JOB}-again`);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('combobox', { name: 'One-Click Configuration' }).click();
  await page.getByRole('option', { name: new RegExp(`^${JOB}-params`) }).click();
  await expect(page.getByLabel('Image Path')).toHaveValue('demo/linreg-train:1.0');
  await expect(page.getByRole('textbox', { name: 'Training Output Path', exact: true })).toHaveValue(OUTPUT);
  await expect(page.getByLabel('Environment Variable 1 value')).toHaveValue('25');
  await snap(page, testInfo, 'one-click-configuration');
  expect(errors).toEqual([]);
});
