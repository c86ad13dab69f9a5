import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from './fixtures';
import { snap } from './support';

// The wizard paths that use what lives around it: an engine image offered for Image Path, a
// dataset version as the Data Source, and a notification topic whose webhook receives the end of
// the job. Datasets and topics are made through the API first, as a user would on their pages.
const ID = Date.now().toString(36);
const JOB = `catalog-${ID}`;
const DATASET = `demo-data-${ID}`;
const TOPIC = `ops-${ID}`;

test('runs a job on a dataset version with a notification topic, all picked in the wizard', async ({ page, request }, testInfo) => {
  test.setTimeout(120_000);
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  try {
    expect((await request.post('/api/v1/datasets', { data: { name: DATASET, path: 'obs://demo/data/' } })).status()).toBe(201);
    expect((await request.post(`/api/v1/datasets/${DATASET}/versions`)).status()).toBe(201);
    expect((await request.post('/api/v1/notification-topics', { data: { name: TOPIC, subscriptions: [{ url: hook }] } })).status()).toBe(
      201,
    );

    await page.goto('/jobs/new');
    await page.getByLabel('Name').fill(JOB);
    await page.getByRole('button', { name: 'Next' }).click();

    // The engine's images that passed (or await) the check are offered; free text stays allowed.
    await expect(page.locator('#engine-images option[value="demo/linreg-train:1.0"]')).toHaveCount(1);
    await page.getByLabel('Image Path').fill('demo/linreg-train:1.0');
    await page.getByRole('textbox', { name: 'Code Directory', exact: true }).fill('obs://demo/code/linreg/');
    await page.getByLabel('Boot Command').fill('sh /home/work/user-job-dir/linreg/train.sh');
    await page.getByRole('radio', { name: 'Dataset' }).check();
    await page.getByRole('combobox', { name: 'Dataset' }).click();
    await page.getByRole('option', { name: DATASET }).click();
    // The newest version is picked with the dataset; choosing it again keeps it.
    await expect(page.getByRole('combobox', { name: 'Version' })).toHaveValue(/^V001/);
    await page.getByRole('combobox', { name: 'Version' }).click();
    await page.getByRole('option', { name: /^V001/ }).click();
    await expect(page.getByRole('combobox', { name: 'Version' })).toHaveValue(/^V001/);
    await page.getByRole('textbox', { name: 'Training Output Path', exact: true }).fill(`obs://demo/output/${JOB}/`);
    await snap(page, testInfo, 'dataset-source');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('combobox', { name: 'Topic' }).click();
    await page.getByRole('option', { name: TOPIC }).click();
    await page.getByRole('checkbox', { name: 'OnJobSucceeded' }).check();
    await snap(page, testInfo, 'notification-topic');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect(page).toHaveURL(new RegExp(`/jobs/${JOB}/V001$`));

    await expect(page.locator(`[data-job="${JOB}/V001"] [data-status]`)).toHaveAttribute('data-status', 'Successful', { timeout: 60_000 });
    const job = await (await request.get(`/api/v1/training-jobs/${JOB}/versions/V001`)).json();
    expect(job.spec.data).toEqual({ source: 'dataset', datasetId: DATASET, version: 'V001' });
    expect(job.events.find((e: { type: string }) => e.type === 'data-download').message).toMatch(/2 files/);

    // The webhook got the end of the job, signed.
    await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const msg = JSON.parse(received[0]!.body);
    expect(msg).toMatchObject({ event: 'OnJobSucceeded', job: { name: JOB, version: 'V001', status: 'Successful' } });
    expect(received[0]!.headers['x-tc-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    await page.getByRole('tab', { name: 'Events' }).click();
    await expect(
      page
        .getByRole('tabpanel')
        .getByText(/notification OnJobSucceeded/)
        .first(),
    ).toBeVisible({ timeout: 30_000 });
    await snap(page, testInfo, 'events-with-notification');
  } finally {
    receiver.close();
  }
});
