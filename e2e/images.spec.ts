import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

// The Images page over the real engine: what it lists, the UID 1101 check on demand, an upload
// of a `docker save` tarball, and a pull that cannot reach its registry. The images this spec
// makes are built here from the demo image (seeded by `main.ts --demo`) with a label naming their
// new tag, so each has an image ID no console has checked before; they are removed at the end.
const DEMO = 'demo/linreg-train:1.0';
/** `formatDateTime` of the web app: local `YYYY-MM-DD HH:MM:SS`. */
const CHECKED_AT = /checked \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;

function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/** Builds `tag` (a new name) from the demo image plus the given Dockerfile lines; a label with the tag makes its ID new. */
function buildFromDemo(tag: string, ...lines: string[]): void {
  docker(['build', '-q', '-t', tag, '-'], [`FROM ${DEMO}`, ...lines, `LABEL tc.e2e.tag="${tag}"`, ''].join('\n'));
}

function removeImage(tag: string): void {
  try {
    docker(['rmi', tag]);
  } catch {
    // Already gone (or never made): nothing to clean up.
  }
}

/** The row of the Images table that lists `tag`. */
function imageRow(page: Page, tag: string): Locator {
  return page
    .getByRole('table', { name: 'Images' })
    .getByRole('row')
    .filter({ has: page.getByText(tag, { exact: true }) });
}

test('lists the engine’s images with their verdicts, and checks images on demand', async ({ page, request }, testInfo) => {
  const id = uniqueSuffix();
  const good = `e2e/check-ok-${id}:1.0`;
  const root = `e2e/check-root-${id}:1.0`;
  try {
    buildFromDemo(good);
    buildFromDemo(root, 'USER 0');

    const errors = consoleErrors(page);
    await page.goto('/');
    await page.getByRole('link', { name: 'Images' }).click();
    await expect(page).toHaveURL(/\/images$/);
    await expect(page.getByRole('heading', { name: 'Images', level: 1 })).toBeVisible();

    // The demo image is on the engine; the two just built have never been checked.
    const demo = imageRow(page, DEMO);
    await expect(demo).toHaveCount(1);
    const okRow = imageRow(page, good);
    const rootRow = imageRow(page, root);
    await expect(okRow.getByText('Not checked yet')).toBeVisible();
    await expect(rootRow.getByText('Not checked yet')).toBeVisible();
    await expect(okRow.getByText(/^checked /)).toHaveCount(0);
    // Columns: tag, short ID, size, created.
    const shortId = docker(['image', 'inspect', '--format', '{{.Id}}', good])
      .replace(/^sha256:/, '')
      .slice(0, 12);
    await expect(okRow.getByRole('cell').nth(1)).toHaveText(shortId);
    await expect(okRow.getByRole('cell').nth(2)).toHaveText(/^[\d.]+ (B|KiB|MiB)$/);
    await expect(okRow.getByRole('cell').nth(3)).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await snap(page, testInfo, 'images-before-check');

    // The demo image passes (USER 1101:1101), whether or not a job has checked it already.
    await demo.getByRole('button', { name: `Check ${DEMO}` }).click();
    await expect(demo.getByText('UID 1101 passed')).toBeVisible();
    await expect(demo.getByText(CHECKED_AT)).toBeVisible();

    // A new image is checked now, on demand: the verdict and the time it was reached.
    const before = Date.now();
    await okRow.getByRole('button', { name: `Check ${good}` }).click();
    await expect(okRow.getByText('UID 1101 passed')).toBeVisible();
    await expect(okRow.getByText(CHECKED_AT)).toBeVisible();
    await expect(okRow.getByText('Not checked yet')).toHaveCount(0);

    // An image whose default user is root fails, with the reason.
    await rootRow.getByRole('button', { name: `Check ${root}` }).click();
    await expect(rootRow.getByText('Check failed')).toBeVisible();
    await expect(rootRow.getByText(/default user is .*it must be UID 1101/)).toBeVisible();
    await expect(rootRow.getByText(CHECKED_AT)).toBeVisible();
    await snap(page, testInfo, 'images-after-check');

    // What the page showed is what the API keeps: the verdicts, reached just now.
    const { items } = (await (await request.get('/api/v1/images')).json()) as {
      items: { repoTags: string[]; check: { status: string; checkedAt: string | null } }[];
    };
    const verdict = (tag: string) => items.find((i) => i.repoTags.includes(tag))!.check;
    expect(verdict(good).status).toBe('passed');
    expect(verdict(root).status).toBe('failed');
    for (const tag of [good, root]) {
      const at = Date.parse(verdict(tag).checkedAt!);
      expect(at).toBeGreaterThanOrEqual(before - 2_000);
      expect(at).toBeLessThanOrEqual(Date.now() + 2_000);
    }

    // The verdict is kept: a reload shows it without checking again.
    await page.reload();
    await expect(imageRow(page, good).getByText('UID 1101 passed')).toBeVisible();
    await expect(imageRow(page, root).getByText('Check failed')).toBeVisible();
    expect(errors).toEqual([]);
  } finally {
    removeImage(good);
    removeImage(root);
  }
});

test('adds an image by uploading the tarball docker save wrote', async ({ page }, testInfo) => {
  const id = uniqueSuffix();
  const tag = `e2e/upload-${id}:1.0`;
  const tarball = testInfo.outputPath(`upload-${id}.tar`);
  try {
    // A tarball of an image the engine then no longer has: the upload is what brings it back.
    buildFromDemo(tag);
    docker(['save', '-o', tarball, tag]);
    docker(['rmi', tag]);
    expect(() => docker(['image', 'inspect', tag])).toThrow();

    await page.goto('/images');
    await expect(page.getByRole('table', { name: 'Images' })).toBeVisible();
    await expect(imageRow(page, tag)).toHaveCount(0);
    const form = page.getByRole('form', { name: 'Upload an image tarball' });

    // Upload without a file: the page asks for one.
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect(form.getByText('Choose a .tar file first')).toBeVisible();

    // Something that is not an image archive is refused by the engine, and the page says so.
    const junk = testInfo.outputPath('not-an-image.tar');
    writeFileSync(junk, 'this is not a docker save archive\n');
    await form.getByLabel('Image tarball').setInputFiles(junk);
    await form.getByRole('button', { name: 'Upload' }).click();
    await expect(form.getByRole('alert')).toContainText('Upload failed');
    await expect(form.getByRole('alert')).toContainText(/image archive|docker save/);
    await snap(page, testInfo, 'upload-refused');

    // The real tarball: loaded into the engine, checked, and listed.
    await form.getByLabel('Image tarball').setInputFiles(tarball);
    await form.getByRole('button', { name: 'Upload' }).click();
    const loaded = form.getByRole('status').filter({ hasText: `Loaded ${tag}` });
    await expect(loaded).toBeVisible({ timeout: 30_000 });
    await expect(loaded.getByText('UID 1101 passed')).toBeVisible();
    await expect(form.getByRole('alert')).toHaveCount(0);
    const row = imageRow(page, tag);
    await expect(row).toHaveCount(1);
    await expect(row.getByText('UID 1101 passed')).toBeVisible();
    await expect(row.getByText(CHECKED_AT)).toBeVisible();
    await snap(page, testInfo, 'upload-loaded');

    // The engine has it again, under the uploaded tag.
    expect(docker(['image', 'inspect', '--format', '{{.Config.User}}', tag])).toBe('1101:1101');
  } finally {
    removeImage(tag);
  }
});

test('a pull from a registry the engine cannot reach ends with a clear error', async ({ page }, testInfo) => {
  const ref = `registry.invalid/e2e/train-${uniqueSuffix()}:1.0`;
  await page.goto('/images');
  const form = page.getByRole('form', { name: 'Pull an image' });
  const field = form.getByLabel('Image reference');

  // A malformed reference is refused before anything is sent.
  await field.fill('Not A Reference');
  await form.getByRole('button', { name: 'Pull' }).click();
  await expect(form.getByText(/must be an image reference/)).toBeVisible();
  await expect(form.getByRole('alert')).toHaveCount(0);

  await field.fill(ref);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/images/pull'));
  await form.getByRole('button', { name: 'Pull' }).click();
  // The pull has begun (200); its failure is the stream's last line, shown on the page.
  expect((await answer).status()).toBe(200);
  const alert = form.getByRole('alert');
  await expect(alert).toContainText('Pull failed', { timeout: 30_000 });
  await expect(alert).toContainText(`could not pull ${ref}`);
  await expect(alert).toContainText('the registry registry.invalid cannot be reached from the engine');
  await expect(form.getByRole('button', { name: 'Pull' })).toBeEnabled();
  await expect(imageRow(page, ref)).toHaveCount(0);
  await snap(page, testInfo, 'pull-unreachable');
});
