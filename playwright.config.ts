import { defineConfig } from '@playwright/test';
import { ADMIN, AUTH_FILE } from './e2e/auth';
import { ARREARS, BUDGETED, MAIN, urlOf } from './e2e/servers';

// End-to-end tests run in Debian's Chromium (`apt-get install -y chromium`): Playwright's own
// browser download is not available here. Video needs a bundled ffmpeg, so it stays off;
// screenshots and traces work.
const baseURL = urlOf(MAIN);

/** One console started by the run: `main.ts --demo` on a data directory of its own, removed first. */
function consoleServer(s: { port: number; s3Port: number; dataDir: string }, env: Record<string, string> = {}) {
  return {
    command: `rm -rf ${s.dataDir} && npx tsx apps/server/src/main.ts --demo`,
    url: `${urlOf(s)}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    env: {
      PORT: String(s.port),
      HOST: '127.0.0.1',
      DATA_DIR: s.dataDir,
      EMBEDDED_S3_PORT: String(s.s3Port),
      LOG_LEVEL: 'warn',
      // The first admin, "admin", is made from this at start (the data directory is new each run).
      ADMIN_PASSWORD: ADMIN.password,
      // A run signs in a handful of times from one address; retries must not meet the limit.
      SIGN_IN_PER_MINUTE: '60',
      ...env,
    },
  };
}

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { open: 'never' }]],
  // Signs in as the admin once; every test starts with that session (a spec that needs a
  // stranger opens a context with an empty storageState).
  globalSetup: './e2e/global-setup.ts',
  use: {
    browserName: 'chromium',
    storageState: AUTH_FILE,
    viewport: { width: 1280, height: 800 },
    baseURL,
    video: 'off',
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
  // The real console: API under /api, the built SPA (apps/web/dist, `npx vite build`) at /.
  // Every run starts from an empty console with the demo seeded (`--demo`: image, code, data).
  // The data directory is removed in the command itself:
  // Playwright starts webServer *before* globalSetup, so a globalSetup would delete it under a
  // running server.
  webServer: [
    // Unlimited budget (empty: none, whatever the calling shell has set): what every spec uses.
    // wizard-catalog.spec.ts's webhook receiver listens on loopback, which is refused unless allowed.
    consoleServer(MAIN, { BUDGET_CORE_HOURS: '', WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }),
    // A budget of 0 core-hours: in arrears from the start (budget.spec.ts, "account in arrears").
    consoleServer(ARREARS, { BUDGET_CORE_HOURS: '0' }),
    // A budget of 1 core-hour, in credit: a job whose estimate exceeds it is refused (wizard-cost.spec.ts).
    consoleServer(BUDGETED, { BUDGET_CORE_HOURS: '1' }),
  ],
});
