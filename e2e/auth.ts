// Who the e2e tests are: the first admin, made at start from ADMIN_PASSWORD (playwright.config.ts),
// signed in once by global-setup.ts; every test starts from that saved session.

export const ADMIN = { username: 'admin', password: 'e2e-admin-password' } as const;

/** The admin's signed-in browser state (the session cookie), written by global-setup.ts. */
export const AUTH_FILE = '.tmp/e2e-auth.json';
