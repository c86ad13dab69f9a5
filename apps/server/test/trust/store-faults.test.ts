import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { allLogLines, ENDED, getJob, jobRequest, submit, untilStatus } from '../support/jobs.js';

// The object store goes away in the middle of a job. The client retries a bounded number of
// times (3 attempts, 5 s connect timeout); then the job must fail, naming the step, and never
// be Successful without its outputs.
let image: string;
let tc: TestConsole | undefined;

beforeAll(async () => {
  image = await buildTestImage('user1101');
});
afterEach(async () => {
  await tc?.close();
  tc = undefined;
});
afterAll(async () => {
  await removeTestContainers();
  await removeTestImages();
});

describe('the object store unreachable', () => {
  it('during staging fails the job at the data download', { timeout: 120_000 }, async () => {
    tc = await startTestConsole('embedded');
    const many: Record<string, string> = { 'code/run.sh': 'true' };
    for (let i = 0; i < 300; i++) many[`data/part-${String(i).padStart(4, '0')}.csv`] = `${i},${i}\n`;
    await uploadText(tc.store, 'jobs', many);

    const job = await submit(tc, jobRequest('store-gone-staging', image, 'echo should not run'));
    await waitFor('the code to be staged', async () => (await getJob(tc!, job)).events.some((e) => e.type === 'code-download'));
    await tc.stopStore();

    const end = await untilStatus(tc, job, ENDED, 90_000);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^data download failed: .*(ECONNREFUSED|socket hang up|ECONNRESET|connect)/);
    expect(end.events.map((e) => e.type)).not.toContain('node-started');
    expect((await allLogLines(tc, job)).map((l) => l.text)).not.toContain('should not run');
    expect(await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`] } })).toEqual([]);
  });

  it('during the output upload fails the job at that step, never Successful', { timeout: 120_000 }, async () => {
    tc = await startTestConsole('embedded');
    await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': '1,2' });
    const cmd = 'echo ready; sleep 3; echo weights > /home/work/outputs/model.bin; echo trained';
    const job = await submit(tc, jobRequest('store-gone-upload', image, cmd));
    await waitFor('the boot command to run', async () => (await allLogLines(tc!, job)).some((l) => l.text === 'ready'));
    await tc.stopStore();

    const end = await untilStatus(tc, job, ENDED, 90_000);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^output upload failed: /);
    const lines = (await allLogLines(tc, job)).map((l) => l.text);
    expect(lines).toContain('trained');
    expect(lines.some((l) => l.startsWith('output upload failed: '))).toBe(true);
    expect(end.nodes[0]!.exitCode).toBe(0);
  });
});
