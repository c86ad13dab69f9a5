import AxeBuilder from '@axe-core/playwright';
import type { Page, TestInfo } from '@playwright/test';
import { expect, test } from './fixtures';
import { snap, uniqueSuffix } from './support';

// Every page, at a desktop width and at a phone's (390 px): axe's WCAG 2.1 A/AA rules with no
// serious or critical violation, a title of its own, and nothing wider than the screen.

const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Waits for the page's heading and for its first data (no "Loading …" left). */
async function ready(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 }).first()).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
}

/** axe's serious and critical findings, one line each: rule, impact, the first few elements. */
async function seriousViolations(page: Page, testInfo: TestInfo, name: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  await testInfo.attach(`axe-${name}.json`, { body: JSON.stringify(result.violations, null, 2), contentType: 'application/json' });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => `${n.html.slice(0, 160)} [${n.failureSummary ?? ''}]`)
          .join(', ')}`,
    );
}

/** How far the page scrolls sideways (0 when it fits the screen). */
async function sidewaysScroll(page: Page): Promise<number> {
  return page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
}

async function check(page: Page, testInfo: TestInfo, name: string, title: RegExp): Promise<void> {
  await ready(page);
  await expect(page).toHaveTitle(title);
  expect(await seriousViolations(page, testInfo, name), `axe on ${name}`).toEqual([]);
  expect(await sidewaysScroll(page), `${name} scrolls sideways`).toBeLessThanOrEqual(0);
  await snap(page, testInfo, name);
}

let job = '';

test.beforeAll(async ({ request }) => {
  job = `a11y-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name: job,
      algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'echo done' },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${job}/`,
    },
  });
  expect(created.status()).toBe(201);
});

const PAGES: { path: () => string; name: string; title: RegExp }[] = [
  { path: () => '/jobs', name: 'jobs', title: /^Training Jobs · Training Console$/ },
  { path: () => '/jobs/new', name: 'wizard', title: /^Create Training Job · Training Console$/ },
  { path: () => `/jobs/${job}/V001`, name: 'job-detail', title: /^a11y-\S+ V001 · Training Jobs · Training Console$/ },
  { path: () => '/job-parameters', name: 'job-parameters', title: /^Job Parameters · Training Console$/ },
  { path: () => '/notification-topics', name: 'notification-topics', title: /^Notification Topics · Training Console$/ },
  { path: () => '/datasets', name: 'datasets', title: /^Data Management · Training Console$/ },
  { path: () => '/images', name: 'images', title: /^Images · Training Console$/ },
  { path: () => '/budget', name: 'budget', title: /^Budget · Training Console$/ },
  { path: () => '/account', name: 'account', title: /^Account · Training Console$/ },
  { path: () => '/admin/users', name: 'users', title: /^Users · Training Console$/ },
  { path: () => '/admin/audit-log', name: 'audit-log', title: /^Audit log · Training Console$/ },
  { path: () => '/no-such-page', name: 'not-found', title: /^Page not found · Training Console$/ },
];

for (const size of WIDTHS) {
  test.describe(`at ${size.width} px`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    for (const p of PAGES) {
      test(`${p.name}: no serious axe violation, its own title, no sideways scroll`, async ({ page }, testInfo) => {
        await page.goto(p.path());
        await check(page, testInfo, `${p.name}-${size.name}`, p.title);
      });
    }

    test('every step of the wizard fits, the Select dialog included', async ({ page }, testInfo) => {
      await page.goto('/jobs/new');
      await ready(page);
      await page.getByLabel('Name').fill(`a11y-walk-${uniqueSuffix()}`);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
      await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
      await page.getByLabel('Boot Command').fill('echo done');
      await page.getByRole('textbox', { name: 'Data path', exact: true }).fill('obs://demo/data/');
      await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill('obs://demo/output/a11y-walk/');
      expect(await sidewaysScroll(page), 'step 2 scrolls sideways').toBeLessThanOrEqual(0);

      // The dialog: its close button has a name, and axe finds nothing serious while it is open.
      await page.getByRole('button', { name: 'Select Code Directory' }).click();
      const dialog = page.getByRole('dialog', { name: 'Select Code Directory' });
      await expect(dialog.getByRole('button', { name: /^demo/ })).toBeVisible();
      await expect(dialog.getByRole('button', { name: 'Close dialog' })).toBeVisible();
      expect(await seriousViolations(page, testInfo, `select-dialog-${size.name}`), 'axe with the dialog open').toEqual([]);
      await snap(page, testInfo, `select-dialog-${size.name}`);
      await dialog.getByRole('button', { name: 'Close dialog' }).click();
      await expect(dialog).toHaveCount(0);

      for (const step of ['Resources', 'Notification', 'Confirm']) {
        await page.getByRole('button', { name: 'Next' }).click();
        await expect(page.getByRole('region', { name: step })).toBeVisible();
        await expect(page.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
        expect(await seriousViolations(page, testInfo, `wizard-${step}-${size.name}`), `axe on ${step}`).toEqual([]);
        expect(await sidewaysScroll(page), `${step} scrolls sideways`).toBeLessThanOrEqual(0);
        await snap(page, testInfo, `wizard-${step.toLowerCase()}-${size.name}`);
      }
    });
  });
}

test('a skip link leads keyboard users past the header and the sections', async ({ page }) => {
  await page.goto('/jobs');
  await ready(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();
});

test('hints and placeholders meet 4.5:1 contrast on white', async ({ page }) => {
  await page.goto('/admin/users');
  await ready(page);
  const colours = await page.evaluate(() => {
    const hint = document.querySelector('.mantine-InputWrapper-description');
    const input = document.querySelector('input[name="username"]');
    return {
      hint: hint ? getComputedStyle(hint).color : '',
      placeholder: input ? getComputedStyle(input, '::placeholder').color : '',
    };
  });
  for (const c of [colours.hint, colours.placeholder]) expect(contrastOnWhite(c), c).toBeGreaterThanOrEqual(4.5);
});

/** WCAG contrast ratio of an `rgb(r, g, b)` colour against white. */
function contrastOnWhite(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
  const lin = (c = 0) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return 1.05 / (l + 0.05);
}

test('the sign-in page, signed out', async ({ browser }, testInfo) => {
  for (const size of WIDTHS) {
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, viewport: size });
    const page = await context.newPage();
    await page.goto('/sign-in');
    await check(page, testInfo, `sign-in-${size.name}`, /^Sign in · Training Console$/);
    await context.close();
  }
});
