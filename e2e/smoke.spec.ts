import { expect, test } from '@playwright/test';

test('the console opens on the training job list', async ({ page }, testInfo) => {
  await page.goto('/');

  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.getByRole('heading', { name: 'Training Jobs', level: 1 })).toBeVisible();

  // A fresh data directory has no jobs, but a seeded console may: either view is a working list.
  const table = page.getByRole('table', { name: 'Training jobs' });
  const empty = page.getByRole('heading', { name: 'No training jobs yet' });
  await expect(table.or(empty)).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);

  await testInfo.attach('training-jobs-page', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
});
