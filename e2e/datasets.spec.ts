import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures';
import { snap, uniqueSuffix } from './support';

// The Data Management page over the real store: a dataset on the demo folder (seeded by
// `main.ts --demo` from scripts/demo/sample/data), a published version with its file count and
// size, its file list, and the version offered by the wizard. Running a job on a dataset version
// is wizard-catalog.spec.ts; this spec is about the page.
const SAMPLE = fileURLToPath(new URL('../scripts/demo/sample/data/', import.meta.url));

/** The demo files as the seed uploaded them: `data/<name>` and their sizes. */
const demoFiles = readdirSync(SAMPLE)
  .sort()
  .map((name) => ({ key: `data/${name}`, size: statSync(path.join(SAMPLE, name)).size }));
const totalBytes = demoFiles.reduce((n, f) => n + f.size, 0);

/** The page's own size format: bytes as they are, larger amounts with one decimal. */
function pageBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

test('creates a dataset on a storage folder, publishes a version, lists its files, and offers it to the wizard', async ({
  page,
  request,
}, testInfo) => {
  const ID = uniqueSuffix();
  const DATASET = `e2e-data-${ID}`;
  expect(demoFiles.length).toBeGreaterThan(0);
  await page.goto('/');
  await page.getByRole('link', { name: 'Data Management' }).click();
  await expect(page).toHaveURL(/\/datasets$/);
  await expect(page.getByRole('heading', { name: 'Data Management', level: 1 })).toBeVisible();
  const form = page.getByRole('form', { name: 'Create dataset' });

  // A folder in a bucket that does not exist is refused on the field that names it.
  await form.getByLabel('Name').fill(DATASET);
  await form.getByLabel('Storage path').fill(`obs://no-such-bucket-${ID}/data/`);
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByText(`bucket no-such-bucket-${ID} does not exist`)).toBeVisible();
  await expect(page.getByRole('region', { name: `Dataset ${DATASET}` })).toHaveCount(0);
  await snap(page, testInfo, 'create-refused');

  // The demo folder: the dataset appears, with no version yet.
  await form.getByLabel('Storage path').fill('obs://demo/data/');
  await form.getByLabel('Description').fill('the demo CSVs, made by the e2e test');
  await form.getByRole('button', { name: 'Create' }).click();
  const card = page.getByRole('region', { name: `Dataset ${DATASET}` });
  await expect(card).toBeVisible();
  await expect(card.getByRole('heading', { name: DATASET })).toBeVisible();
  await expect(card.getByText('obs://demo/data/ · the demo CSVs, made by the e2e test')).toBeVisible();
  await expect(card.getByText(/No version yet/)).toBeVisible();
  // The form is cleared for the next one.
  await expect(form.getByLabel('Name')).toHaveValue('');

  // The same name again is refused: a name belongs to whoever made it first.
  await form.getByLabel('Name').fill(DATASET);
  await form.getByLabel('Storage path').fill('obs://demo/data/');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(form.getByRole('alert')).toHaveText(`dataset ${DATASET} already exists`);
  await expect(page.getByRole('region', { name: `Dataset ${DATASET}` })).toHaveCount(1);

  // Publish V001: it pins the folder's files, with their count and total size.
  await card.getByRole('button', { name: 'Publish version' }).click();
  const versions = card.getByRole('table', { name: `Versions of ${DATASET}` });
  const v1 = versions.getByRole('row').filter({ hasText: 'V001' });
  await expect(v1).toHaveCount(1);
  const cells = v1.getByRole('cell');
  await expect(cells.nth(0)).toHaveText('V001');
  await expect(cells.nth(1)).toHaveText(String(demoFiles.length));
  await expect(cells.nth(2)).toHaveText(pageBytes(totalBytes));
  await expect(card.getByRole('alert')).toHaveCount(0);
  await snap(page, testInfo, 'version-published');

  // Its file list: every pinned key with its size and ETag.
  await v1.getByRole('button', { name: 'Show files' }).click();
  const files = card.getByRole('table', { name: `Files of ${DATASET} V001` });
  await expect(files).toBeVisible();
  await expect(files.getByRole('row')).toHaveCount(demoFiles.length + 1);
  for (const f of demoFiles) {
    const row = files.getByRole('row').filter({ has: page.getByRole('cell', { name: f.key, exact: true }) });
    await expect(row.getByRole('cell').nth(1)).toHaveText(pageBytes(f.size));
    await expect(row.getByRole('cell').nth(2)).toHaveText(/^"?[0-9a-f]{32}(-\d+)?"?$/);
  }
  await expect(card.getByRole('button', { name: 'Next' })).toBeDisabled();
  await snap(page, testInfo, 'version-files');
  await v1.getByRole('button', { name: 'Hide files' }).click();
  await expect(files).toHaveCount(0);

  // The API keeps what the page showed.
  const ds = await (await request.get(`/api/v1/datasets/${DATASET}`)).json();
  expect(ds.versions).toMatchObject([{ version: 'V001', files: demoFiles.length, totalBytes }]);

  // The wizard's Dataset option offers this dataset and its version (with its file count).
  await page.goto('/jobs/new');
  await page.getByLabel('Name').fill(`ds-pick-${ID}`);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: 'Dataset' }).check();
  await page.getByRole('combobox', { name: 'Dataset' }).click();
  await page.getByRole('option', { name: DATASET }).click();
  await expect(page.getByRole('combobox', { name: 'Version' })).toHaveValue(`V001 (${demoFiles.length} files)`);
  await snap(page, testInfo, 'wizard-dataset-picked');

  // Back on the page, the dataset is deleted (after a confirmation); its files stay in storage.
  await page.goto('/datasets');
  page.once('dialog', (d) => {
    expect(d.message()).toContain(`Delete dataset ${DATASET}?`);
    void d.accept();
  });
  await page
    .getByRole('region', { name: `Dataset ${DATASET}` })
    .getByRole('button', { name: 'Delete' })
    .click();
  await expect(page.getByRole('region', { name: `Dataset ${DATASET}` })).toHaveCount(0);
  expect((await request.get(`/api/v1/datasets/${DATASET}`)).status()).toBe(404);
  const left = await (await request.get('/api/v1/storage/buckets/demo/objects?prefix=data/')).json();
  const kept = (left.objects as { key: string; size: number }[]).map((o) => ({ key: o.key, size: o.size }));
  expect(kept.sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(demoFiles);
  await snap(page, testInfo, 'dataset-deleted');
});
