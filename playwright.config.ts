import { defineConfig } from '@playwright/test';
import { ADMIN, AUTH_FILE } from './e2e/auth';

// End-to-end tests run in Debian's Chromium (`apt-get install -y chromium`): Playwright's own
// browser download is not available here. Video needs a bundled ffmpeg, so it stays off;
// screenshots and traces work.
const PORT = 18080;
const baseURL = `http://127.0.0.1:${PORT}`;

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
  webServer: {
    command: 'rm -rf .tmp/e2e-data && npx tsx apps/server/src/main.ts --demo',
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      PORT: String(PORT),
      HOST: '127.0.0.1',
      DATA_DIR: '.tmp/e2e-data',
      EMBEDDED_S3_PORT: '19000',
      LOG_LEVEL: 'warn',
      // The first admin, "admin", is made from this at start (the data directory is new each run).
      ADMIN_PASSWORD: ADMIN.password,
      // A run signs in a handful of times from one address; retries must not meet the limit.
      SIGN_IN_PER_MINUTE: '60',
    },
  },
});
