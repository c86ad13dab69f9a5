import { test as base } from '@playwright/test';
import { CSRF_HEADER, type Session } from '@tc/contracts';

export { expect } from '@playwright/test';

/**
 * The tests' `request` is the admin's session (the saved cookie) with its CSRF token as the
 * header every change needs, so specs call the API as the signed-in console does.
 */
export const test = base.extend({
  request: async ({ playwright }, use) => {
    const plain = await playwright.request.newContext();
    const answer = await plain.get('/api/v1/auth/session');
    if (!answer.ok()) throw new Error(`the saved admin session is not valid: ${answer.status()} ${await answer.text()}`);
    const session = (await answer.json()) as Session;
    await plain.dispose();
    const request = await playwright.request.newContext({ extraHTTPHeaders: { [CSRF_HEADER]: session.csrfToken } });
    await use(request);
    await request.dispose();
  },
});
