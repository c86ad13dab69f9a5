import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures';
import { consoleErrors, snap } from './support';

// The demo job (image demo/linreg-train:1.0, code and data seeded by `main.ts --demo`), made
// through the real API; its page then lists, previews and downloads what it wrote.
test("the job page lists the demo job's outputs, previews model.json and downloads it", async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  const name = `outputs-${Date.now().toString(36)}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name,
      algorithm: {
        source: 'custom',
        imagePath: 'demo/linreg-train:1.0',
        codeDir: 'obs://demo/code/linreg/',
        bootCommand: 'sh /home/work/user-job-dir/linreg/train.sh',
      },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${name}/`,
      env: [{ name: 'EPOCHS', value: '5' }],
    },
  });
  expect(created.status(), await created.text()).toBe(201);

  await page.goto(`/jobs/${name}/V001`);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Outputs' }).click();
  const files = page.getByRole('table', { name: 'Output files' });
  await expect(files.getByRole('cell', { name: 'model.json', exact: true })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download all (.tar)' })).toHaveAttribute(
    'href',
    `/api/v1/training-jobs/${name}/versions/V001/outputs.tar`,
  );

  // The preview shows the model's JSON in place.
  await files.getByRole('button', { name: 'Preview model.json' }).click();
  const dialog = page.getByRole('dialog', { name: 'model.json' });
  const text = dialog.getByLabel('Preview of model.json');
  await expect(text).toContainText('"epochs":5');
  const previewed = JSON.parse((await text.textContent()) ?? '') as Record<string, unknown>;
  expect(previewed).toMatchObject({ epochs: 5, w: expect.any(Number), b: expect.any(Number) });
  await expect(dialog.getByText(/^Truncated/)).toHaveCount(0);
  await snap(page, testInfo, 'outputs-preview');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // The per-file link downloads the file itself (an attachment, not a page).
  const download = page.waitForEvent('download');
  await files.getByRole('link', { name: 'Download model.json' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('model.json');
  const path = await file.path();
  expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(previewed);
  await snap(page, testInfo, 'outputs-list');
  expect(errors).toEqual([]);
});
