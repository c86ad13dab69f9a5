import { expect, test } from './fixtures';
import { consoleErrors, snap, uniqueSuffix } from './support';

test('"Terminal" on a running node opens a shell as UID 1101, loaded only when opened', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const errors = consoleErrors(page);
  const name = `term-${uniqueSuffix()}`;
  const created = await request.post('/api/v1/training-jobs', {
    data: {
      name,
      algorithm: {
        source: 'custom',
        imagePath: 'demo/linreg-train:1.0',
        codeDir: 'obs://demo/code/linreg/',
        bootCommand: 'echo up; sleep 600',
      },
      data: { source: 'path', path: 'obs://demo/data/' },
      trainOutput: `obs://demo/output/${name}/`,
      env: [{ name: 'GREETING', value: 'hello-from-e2e' }],
    },
  });
  expect(created.status()).toBe(201);

  const xterm: string[] = [];
  page.on('request', (r) => /TerminalView/.test(r.url()) && xterm.push(r.url()));
  await page.goto(`/jobs/${name}/V001`);
  const button = page.getByRole('button', { name: 'Open a terminal on node 0' });
  await expect(button).toBeVisible({ timeout: 60_000 });
  // xterm.js is not part of the page until a terminal is opened.
  expect(xterm).toEqual([]);

  await button.click();
  const dialog = page.getByRole('dialog', { name: `Terminal: ${name} V001, node 0` });
  await expect(dialog.locator('[data-terminal-state="open"]')).toBeVisible({ timeout: 20_000 });
  expect(xterm.length).toBeGreaterThan(0);
  const screen = dialog.getByTestId('terminal');
  await expect(screen).toContainText('$');
  await page.keyboard.type('id -u; echo "g=$GREETING"');
  await page.keyboard.press('Enter');
  await expect(screen.locator('.xterm-rows')).toContainText('1101');
  await expect(screen.locator('.xterm-rows')).toContainText('g=hello-from-e2e');
  await snap(page, testInfo, 'terminal-open');

  // Stopping the job closes the terminal, and says so.
  expect((await request.post(`/api/v1/training-jobs/${name}/versions/V001/stop`)).status()).toBe(200);
  await expect(dialog.locator('[data-terminal-state="closed"]')).toContainText(/The job (is stopping|ended)/, { timeout: 30_000 });
  await snap(page, testInfo, 'terminal-closed');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: 'Open a terminal on node 0' })).toHaveCount(0, { timeout: 60_000 });
  expect(errors).toEqual([]);
});
