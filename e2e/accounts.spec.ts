import type { Browser, BrowserContext, Page } from '@playwright/test';
import { ADMIN } from './auth';
import { expect, test } from './fixtures';
import { snap } from './support';

// Accounts end to end: sign-in, a second user who sees only their own work, API tokens, the
// audit log and sign-out. The default page is the admin (global-setup.ts); anyone else gets a
// context of their own with no cookies.

const ID = Date.now().toString(36);
const BOB = { username: 'bob', password: 'bob-e2e-password' };
const ADMINS_JOB = `admins-job-${ID}`;
const TOKEN_NAME = `bob-token-${ID}`;

test.describe.configure({ mode: 'serial' });

/** A browser context without the admin's cookie: a stranger at the console. */
async function stranger(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  return { context, page: await context.newPage() };
}

async function fillSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign In' }).click();
}

test('a stranger is sent to sign in; a wrong password is refused, the right one opens the jobs', async ({ browser }, testInfo) => {
  const { context, page } = await stranger(browser);
  try {
    await page.goto('/jobs');
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fjobs$/);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

    await fillSignIn(page, ADMIN.username, 'not-the-password');
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
    await expect(page).toHaveURL(/\/sign-in/);
    await snap(page, testInfo, 'sign-in-wrong-password');

    await fillSignIn(page, ADMIN.username, ADMIN.password);
    await expect(page).toHaveURL(/\/jobs$/);
    await expect(page.getByRole('heading', { name: 'Training Jobs', level: 1 })).toBeVisible();
    await expect(page.getByTestId('signed-in-user')).toHaveText(ADMIN.username);
    await snap(page, testInfo, 'signed-in-jobs');
  } finally {
    await context.close();
  }
});

test('a user made by the admin sees only their own jobs, and makes and revokes an API token', async ({
  browser,
  page,
  request,
  playwright,
}, testInfo) => {
  test.setTimeout(90_000);
  // A retry of this group finds bob from the first attempt: start over without him.
  expect([204, 404]).toContain((await request.delete(`/api/v1/users/${BOB.username}`)).status());

  // The admin has a job.
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name: ADMINS_JOB,
      algorithm: { source: 'custom', imagePath: 'demo/linreg-train:1.0', codeDir: 'obs://demo/code/linreg/', bootCommand: 'echo hi' },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${ADMINS_JOB}/`,
    },
  });
  expect(created.status()).toBe(201);

  // The admin creates bob on the Users page.
  await page.goto('/jobs');
  const nav = page.getByRole('navigation', { name: 'Sections' });
  await nav.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  const form = page.getByRole('form', { name: 'Create user' });
  await form.getByLabel('Username').fill(BOB.username);
  await form.getByLabel('Password').fill(BOB.password);
  await form.getByLabel('Role').selectOption('user');
  await form.getByRole('button', { name: 'Create User' }).click();
  const users = page.getByRole('table', { name: 'Users' });
  await expect(users.locator(`tr[data-user="${BOB.username}"]`)).toContainText('user');
  // Nobody deletes themself.
  await expect(users.locator(`tr[data-user="${ADMIN.username}"]`).getByRole('button')).toHaveCount(0);
  await snap(page, testInfo, 'admin-users');

  const bob = await stranger(browser);
  try {
    await bob.page.goto('/sign-in');
    await fillSignIn(bob.page, BOB.username, BOB.password);
    await expect(bob.page).toHaveURL(/\/jobs$/);
    await expect(bob.page.getByTestId('signed-in-user')).toHaveText(BOB.username);
    await expect(bob.page.getByRole('heading', { name: 'No training jobs yet' })).toBeVisible();
    // Not an admin: no admin sections.
    await expect(bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' })).toHaveCount(0);
    await snap(bob.page, testInfo, 'bob-empty-jobs');

    // ...while the admin's list has the job.
    await page.goto('/jobs');
    await expect(page.locator(`tr[data-job="${ADMINS_JOB}/V001"]`)).toBeVisible();

    // bob cannot open it, even knowing its address.
    await bob.page.goto(`/jobs/${ADMINS_JOB}/V001`);
    await expect(bob.page.getByRole('alert')).toContainText(`${ADMINS_JOB} V001 does not exist`);
    await snap(bob.page, testInfo, 'bob-not-found');

    // An API token: shown once, works as bob, then revoked.
    await bob.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Account' }).click();
    await expect(bob.page).toHaveURL(/\/account$/);
    await expect(bob.page.getByTestId('account-username')).toHaveText(BOB.username);
    await expect(bob.page.getByTestId('account-role')).toHaveText('user');
    await expect(bob.page.getByRole('heading', { name: 'No API tokens yet' })).toBeVisible();
    await bob.page.getByLabel('Token name').fill(TOKEN_NAME);
    await bob.page.getByRole('button', { name: 'Create Token' }).click();
    const shown = bob.page.getByRole('alert', { name: 'New API token' });
    await expect(shown).toContainText('shown only this once');
    const token = (await shown.getByTestId('new-api-token').textContent())?.trim() ?? '';
    expect(token).toMatch(/^tct_/);
    const tokens = bob.page.getByRole('table', { name: 'API tokens' });
    await expect(tokens.locator(`tr[data-token="${TOKEN_NAME}"]`)).toContainText(token.slice(0, 10));
    await snap(bob.page, testInfo, 'bob-token-created');

    // A script with the token and no cookie acts as bob.
    const script = await playwright.request.newContext({
      storageState: { cookies: [], origins: [] },
      extraHTTPHeaders: { authorization: `Bearer ${token}` },
    });
    const me = await script.get('/api/v1/auth/session');
    expect(me.status()).toBe(200);
    expect((await me.json()).user.username).toBe(BOB.username);
    expect((await (await script.get('/api/v1/training-jobs')).json()).total).toBe(0);

    await shown.getByRole('button', { name: 'I have saved it' }).click();
    await expect(shown).toHaveCount(0);
    await bob.page.reload();
    await expect(tokens.locator(`tr[data-token="${TOKEN_NAME}"]`)).toBeVisible();
    await expect(bob.page.getByText(token)).toHaveCount(0);

    await tokens.getByRole('button', { name: `Revoke ${TOKEN_NAME}` }).click();
    const dialog = bob.page.getByRole('dialog', { name: `Revoke ${TOKEN_NAME}?` });
    await snap(bob.page, testInfo, 'bob-token-revoke');
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await expect(bob.page.getByRole('heading', { name: 'No API tokens yet' })).toBeVisible();
    expect((await script.get('/api/v1/training-jobs')).status()).toBe(401);
    await script.dispose();
  } finally {
    await bob.context.close();
  }
});

test("the admin's audit log shows the user creation and bob's token", async ({ page }, testInfo) => {
  await page.goto('/jobs');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit-log$/);
  const log = page.getByRole('table', { name: 'Audit log' });
  const tokenRow = log.getByRole('row').filter({ hasText: 'POST /api/v1/auth/tokens' }).filter({ hasText: TOKEN_NAME });
  await expect(tokenRow).toHaveCount(1);
  await expect(tokenRow.getByRole('cell').nth(1)).toHaveText(BOB.username);
  await expect(tokenRow.getByRole('cell').nth(4)).toHaveText('201');
  const userRow = log.getByRole('row').filter({ hasText: 'POST /api/v1/users' }).filter({ hasText: '201' });
  await expect(userRow.first().getByRole('cell').nth(1)).toHaveText(ADMIN.username);
  // The revoke and bob's sign-in are there too, newest first.
  await expect(log.getByRole('row').filter({ hasText: 'DELETE /api/v1/auth/tokens/:id' })).toHaveCount(1);
  await snap(page, testInfo, 'audit-log');

  // Only bob's entries.
  await page.getByLabel('Username').fill(BOB.username);
  await expect(log.getByRole('row').filter({ hasText: 'POST /api/v1/users' })).toHaveCount(0);
  await expect(tokenRow).toHaveCount(1);
  const userCells = log.locator('tbody tr td:nth-child(2)');
  await expect(userCells.first()).toHaveText(BOB.username);
  expect(new Set(await userCells.allTextContents())).toEqual(new Set([BOB.username]));
  await snap(page, testInfo, 'audit-log-bob');
});

test('Sign out returns to sign-in, and the console then asks to sign in again', async ({ browser }, testInfo) => {
  // Not the admin's shared session: signing out of that would sign out every later test.
  const bob = await stranger(browser);
  try {
    await bob.page.goto('/account');
    await expect(bob.page).toHaveURL(/\/sign-in\?next=%2Faccount$/);
    await fillSignIn(bob.page, BOB.username, BOB.password);
    await expect(bob.page).toHaveURL(/\/account$/);
    await bob.page.getByRole('button', { name: 'Sign out' }).click();
    await expect(bob.page).toHaveURL(/\/sign-in$/);
    await expect(bob.page.getByRole('button', { name: 'Sign In' })).toBeVisible();
    await snap(bob.page, testInfo, 'signed-out');

    await bob.page.goto('/jobs');
    await expect(bob.page).toHaveURL(/\/sign-in\?next=%2Fjobs$/);
    expect((await bob.context.request.get('/api/v1/auth/session')).status()).toBe(401);
  } finally {
    await bob.context.close();
  }
});
