import { expect, test, type Locator, type Page } from '@playwright/test';
import { snap, uniqueSuffix } from './support';

// Forms validate on blur, and the blur comes with the mousedown of the next click. A click is a
// mousedown and a mouseup on the same element: these tests press and release the mouse at one
// point of the button, as a person does, with the field's error changing in between (the step a
// locator.click() retry would hide).

/** Where on the button to press: near its top or its bottom edge, so a shift of one error line moves it away. */
async function pointOn(button: Locator, edge: 'top' | 'bottom'): Promise<{ x: number; y: number }> {
  const box = await button.boundingBox();
  if (!box) throw new Error('the button is not on screen');
  return { x: box.x + box.width / 2, y: edge === 'top' ? box.y + 4 : box.y + box.height - 4 };
}

/** mousedown, then whatever the blur brings (`between`), then mouseup at the same point. */
async function pressAndRelease(page: Page, at: { x: number; y: number }, between: () => Promise<void>): Promise<void> {
  await page.mouse.move(at.x, at.y);
  await page.mouse.down();
  await between();
  await page.mouse.up();
}

test('"Create User" after fixing a too-short password creates the user on the first click', async ({ page }, testInfo) => {
  const username = `click${uniqueSuffix()}`.slice(0, 32);
  await page.goto('/admin/users');
  const form = page.getByRole('form', { name: 'Create user' });
  await form.getByLabel('Username').fill(username);
  const password = form.getByLabel('Password', { exact: true });
  await password.fill('short');
  await password.blur();
  // Mantine marks its password input with data-invalid (aria-invalid is on no element of it).
  await expect(password).toHaveAttribute('data-invalid', 'true');
  await snap(page, testInfo, 'users-1-password-too-short');

  await password.fill('long-enough-password');
  const create = form.getByRole('button', { name: 'Create User' });
  await create.scrollIntoViewIfNeeded();
  // The error line goes away with the blur: the button must not move up from under the pointer.
  const at = await pointOn(create, 'bottom');
  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/users') && r.request().method() === 'POST', { timeout: 10_000 });
  await pressAndRelease(page, at, () => expect(password).not.toHaveAttribute('data-invalid', 'true'));
  expect((await created).status()).toBe(201);
  await expect(page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: username })).toBeVisible();
  await snap(page, testInfo, 'users-2-created');
});

test('"Add Environment Variable" right after a wrong Training Output Path adds the row', async ({ page }, testInfo) => {
  await page.goto('/jobs/new');
  await page.getByLabel('Name').fill(`click-${uniqueSuffix()}`);
  await page.getByRole('button', { name: 'Next' }).click();
  const output = page.getByRole('textbox', { name: 'Training Output Path', exact: true });
  await output.fill('not-a-path');

  const add = page.getByRole('button', { name: 'Add Environment Variable' });
  await add.scrollIntoViewIfNeeded();
  // The error line appears with the blur, above the button: it must not push the button down.
  const at = await pointOn(add, 'top');
  await pressAndRelease(page, at, () => expect(output).toHaveAttribute('aria-invalid', 'true'));
  await expect(page.getByLabel('Environment Variable 1 name')).toBeVisible();
  await expect(page.getByText('Training Output Path must be an object-storage directory')).toBeVisible();
  await snap(page, testInfo, 'wizard-env-row-added');
});

test('Compute Nodes beyond what the pool could ever hold is refused on the Resources step', async ({ page, request }, testInfo) => {
  const pools = (await (await request.get('/api/v1/resource-pools')).json()) as {
    items: {
      id: string;
      capacity: { vcpus: number; memoryGiB: number; gpus: number };
      flavors: { id: string; vcpus: number; memoryGiB: number }[];
    }[];
  };
  const pool = pools.items.find((p) => p.id === 'public') ?? pools.items[0];
  const flavor = pool?.flavors[0];
  if (!pool || !flavor) throw new Error('the demo has no pool with a flavor');
  const most = Math.min(Math.floor(pool.capacity.vcpus / flavor.vcpus), Math.floor(pool.capacity.memoryGiB / flavor.memoryGiB));

  await page.goto('/jobs/new');
  await page.getByLabel('Name').fill(`nodes-${uniqueSuffix()}`);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
  await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
  await page.getByLabel('Boot Command').fill('sh /home/work/user-job-dir/linreg/train.sh');
  await page.getByRole('textbox', { name: 'Data path', exact: true }).fill('obs://demo/data/');
  await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(`obs://demo/output/nodes-${uniqueSuffix()}/`);
  await page.getByRole('button', { name: 'Next' }).click();

  await expect(page.getByRole('combobox', { name: 'Specifications' })).toHaveValue(new RegExp(flavor.id.replace(/\./g, '\\.')));
  const nodes = page.getByLabel('Compute Nodes');
  await nodes.fill(String(most + 1));
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(nodes).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByRole('region', { name: 'Resources' })).toBeVisible();
  await expect(page.getByText(new RegExp(`^Compute Nodes must be at most ${most}\\b`))).toBeVisible();
  await snap(page, testInfo, 'nodes-1-refused-on-step-3');

  // At most what it holds goes on; the server's own refusal (here forced by rewriting the
  // request) lands on the field too, as a message without the request's internal path.
  await nodes.fill(String(most));
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByRole('region', { name: 'Notification' })).toBeVisible();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.route('**/api/v1/training-jobs', async (route) => {
    const body = route.request().postDataJSON() as { resources: { nodes: number } };
    body.resources.nodes = most + 1;
    await route.continue({ postData: JSON.stringify(body) });
  });
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('region', { name: 'Resources' })).toBeVisible();
  await expect(nodes).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText(/could never start/).first()).toBeVisible();
  await expect(page.locator('body')).not.toContainText('resources.nodes');
  await snap(page, testInfo, 'nodes-2-server-refusal-on-the-field');
});
