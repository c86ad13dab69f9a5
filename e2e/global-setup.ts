import { chromium, type FullConfig } from '@playwright/test';
import { ADMIN, AUTH_FILE } from './auth';

/**
 * Signs in as the admin once, through the sign-in page in the same Chromium the tests use, and
 * keeps the session cookie for every test (`use.storageState`). Playwright starts the webServer
 * before this runs, so the console is up.
 */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const { baseURL, launchOptions } = config.projects[0]!.use;
  const browser = await chromium.launch(launchOptions);
  try {
    const context = await browser.newContext({ baseURL });
    const page = await context.newPage();
    await page.goto('/jobs');
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/sign-in'));
    await page.getByRole('button', { name: 'Sign In' }).click();
    const signIn = await answer;
    if (signIn.status() !== 200) throw new Error(`signing in as ${ADMIN.username} answered ${signIn.status()}: ${await signIn.text()}`);
    const cookies = await context.cookies();
    if (!cookies.some((c) => c.name === 'tc_session')) {
      throw new Error(`Chromium did not keep the session cookie (Set-Cookie: ${signIn.headers()['set-cookie'] ?? 'none'})`);
    }
    await page.waitForURL(/\/jobs$/);
    await context.storageState({ path: AUTH_FILE });
  } finally {
    await browser.close();
  }
}
