// The consoles the e2e run starts (playwright.config.ts, `webServer`), each on its own port,
// data directory and embedded store.

/** The console every spec uses by default: unlimited budget, the admin signed in by global-setup.ts. */
export const MAIN = { port: 18080, s3Port: 19000, dataDir: '.tmp/e2e-data' } as const;

/**
 * A second console whose budget is 0 core-hours (`BUDGET_CORE_HOURS=0`): the account is in
 * arrears from the start, so every create is refused with 402. Only budget.spec.ts uses it, in a
 * browser context of its own (no saved session: it signs in there itself).
 */
export const ARREARS = { port: 18081, s3Port: 19001, dataDir: '.tmp/e2e-data-arrears' } as const;

/**
 * A third console with a budget of 1 core-hour, in credit: the wizard's cost estimate is checked
 * against its balance (wizard-cost.spec.ts, which signs in there itself).
 */
export const BUDGETED = { port: 18082, s3Port: 19002, dataDir: '.tmp/e2e-data-budgeted' } as const;

export const urlOf = (s: { port: number }): string => `http://127.0.0.1:${s.port}`;
