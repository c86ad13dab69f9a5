import type { Page, TestInfo } from '@playwright/test';

/** Keeps a full-page screenshot as a named artifact: a file in the test's output folder and an attachment of the report. */
export async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

/**
 * Records every status the badges of one job (`data-job="name/version"` around a `data-status`)
 * show from now on, across client-side navigation, so a test can check the order a user saw
 * them in without sampling.
 */
export async function recordStatuses(page: Page, job: string): Promise<void> {
  await page.evaluate((job) => {
    const w = window as unknown as { __statuses: string[] };
    w.__statuses = [];
    const note = (el: Element) => {
      if (el.closest('[data-job]')?.getAttribute('data-job') !== job) return;
      const s = el.getAttribute('data-status');
      if (s && w.__statuses.at(-1) !== s) w.__statuses.push(s);
    };
    document.querySelectorAll('[data-status]').forEach(note);
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'attributes' && r.target instanceof Element) note(r.target);
        r.addedNodes.forEach((n) => {
          if (n instanceof Element) {
            if (n.hasAttribute('data-status')) note(n);
            n.querySelectorAll('[data-status]').forEach(note);
          }
        });
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  }, job);
}

export async function recordedStatuses(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
}

/** Console errors and uncaught exceptions of the page (CSP refusals show up here too). */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    // The machine's own interfaces changing under Chromium (the engine adds and removes a bridge
    // for every distributed job, the swarm lab its namespaces) aborts requests in flight; the
    // page fetches again. Not a fault of the page.
    if (msg.type() === 'error' && !msg.text().includes('net::ERR_NETWORK_CHANGED')) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** A suffix for names a test makes (jobs, datasets, image tags), new for every call: base36 time and randomness. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}
