import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readObject, startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../support/images.js';
import { allLogLines, consoleLabel, ENDED, getJob, jobRequest, submit, untilStatus, writePoolsConfig } from '../support/jobs.js';

// Defects a probe found (issue 11): jobs that never ended, a console that died with one job's
// container, two consoles colliding on one engine, an OOM kill that passed for success.
let image: string;
const consoles: TestConsole[] = [];

async function newConsole(env: Record<string, string> = {}): Promise<TestConsole> {
  const tc = await startTestConsole('embedded', env);
  consoles.push(tc);
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': '1,2\n' });
  return tc;
}

beforeAll(async () => {
  image = await buildTestImage('user1101');
});
afterEach(async () => {
  for (const tc of consoles.splice(0)) await tc.close();
});
afterAll(async () => {
  await removeTestContainers();
  await removeTestImages();
});

async function containersOf(jobId: number | string, consoleDataDir: string): Promise<string[]> {
  const list = await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${jobId}`, consoleLabel(consoleDataDir)] } });
  return list.map((c) => c.Id);
}

/** 40 outputs of 2 MB and one with a 250-character name, as the probe wrote them. */
const MANY_OUTPUTS = [
  'cd /home/work/outputs',
  'touch "$(printf %0250d 0)"',
  'for i in $(seq 1 40); do head -c 2000000 /dev/urandom > o$i.bin; done',
  'echo written',
].join('\n');

describe('the output upload', () => {
  it('skips and lists a name the store cannot hold, and uploads the rest', { timeout: 150_000 }, async () => {
    const tc = await newConsole();
    const job = await submit(tc, jobRequest('long-output-name', image, MANY_OUTPUTS));
    const end = await untilStatus(tc, job, ENDED, 120_000);
    expect(end.status, end.reason ?? '').toBe('Successful');
    expect(end.failureClass).toBeNull();
    const upload = end.events.find((e) => e.type === 'output-upload')!.message;
    expect(upload).toMatch(/40 files, 80000000 bytes/);
    expect(upload).toMatch(/not uploaded \(the store refused the name\): 0{40}…/);
    expect(await readObject(tc.store, 'jobs', 'out/long-output-name/o40.bin').then((t) => t.length > 0)).toBe(true);
    expect(await containersOf(end.id, tc.dataDir)).toEqual([]);
  });

  it('ends the job, frees its share and removes its container when the store goes away mid-upload', { timeout: 180_000 }, async () => {
    const tc = await newConsole();
    const cmd = `${MANY_OUTPUTS}\nsleep 4\necho trained`;
    const job = await submit(tc, jobRequest('store-gone-big-upload', image, cmd));
    await waitFor('the outputs to be written', async () => (await allLogLines(tc, job)).some((l) => l.text === 'written'));
    await tc.stopStore();
    const end = await untilStatus(tc, job, ENDED, 150_000);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^output upload failed: /);
    expect(end.failureClass).toBe('platform');
    expect(end.nodes[0]!.exitCode).toBe(0);
    expect(await containersOf(end.id, tc.dataDir)).toEqual([]);
  });
});

describe('a container removed outside the console', () => {
  it('fails its job with that reason, and the console carries on', { timeout: 120_000 }, async () => {
    const tc = await newConsole();
    const job = await submit(tc, jobRequest('removed-under-us', image, 'echo up; sleep 300'));
    await waitFor('the job to run', async () => (await allLogLines(tc, job)).some((l) => l.text === 'up'));
    const [id] = await containersOf(job.id, tc.dataDir);
    await testDocker().getContainer(id!).remove({ force: true });

    const end = await untilStatus(tc, job, ENDED, 90_000);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/container was removed outside the console/);
    expect(end.reason).not.toMatch(/Could not find the file/);
    expect(end.failureClass).toBe('platform');
    // The same console runs the next job as usual.
    const next = await submit(tc, jobRequest('after-removal', image, 'echo fine'));
    expect((await untilStatus(tc, next, ENDED)).status).toBe('Successful');
  });
});

describe('two consoles on one engine', () => {
  it('run jobs of the same name, version and id side by side', { timeout: 120_000 }, async () => {
    const [a, b] = [await newConsole(), await newConsole()];
    const cmd = 'echo start; sleep 3; echo done > /home/work/outputs/done.txt';
    const [ja, jb] = [await submit(a, jobRequest('twin', image, cmd)), await submit(b, jobRequest('twin', image, cmd))];
    expect(ja.id).toBe(jb.id);
    const [ea, eb] = [await untilStatus(a, ja, ENDED), await untilStatus(b, jb, ENDED)];
    expect([ea.status, eb.status], `${ea.reason} / ${eb.reason}`).toEqual(['Successful', 'Successful']);
  });
});

describe('an out-of-memory kill', () => {
  it('fails the job even when the boot command then exits 0', { timeout: 120_000 }, async () => {
    const tc = await newConsole({ CONFIG_FILE: writePoolsConfig() });
    // dd fills a 400 MB buffer in a 256 MiB flavor: the kernel kills it; the shell goes on.
    const cmd = 'dd if=/dev/zero of=/dev/null bs=400M count=1; echo "dd ended with $?"; exit 0';
    const job = await submit(
      tc,
      jobRequest('oom-then-zero', image, cmd, { resources: { pool: 'public', type: 'CPU', flavor: 'cpu.tiny', nodes: 1 } }),
    );
    const end = await untilStatus(tc, job, ENDED);
    expect((await allLogLines(tc, job)).map((l) => l.text)).toContain('dd ended with 137');
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/killed for exceeding the flavor's memory \(0\.25 GiB\)/);
    expect(end.failureClass).toBe('resources');
    expect((await getJob(tc, job)).nodes[0]!.exitCode).toBe(0);
  });
});

describe('the reason of a failed run', () => {
  it('quotes the last lines the command wrote to stderr, secrets masked', { timeout: 120_000 }, async () => {
    const tc = await newConsole();
    const cmd = [
      'echo "epoch 1" ',
      'echo "noise" >&2',
      'echo "connecting with $TOKEN" >&2',
      'echo "ValueError: bad shape" >&2',
      'exit 2',
    ].join('\n');
    const env = [{ name: 'TOKEN', value: 'hunter2-secret', secret: true }];
    const job = await submit(tc, jobRequest('says-why', image, cmd, { env }));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toBe(
      'training failed: boot command exited with code 2; its last lines on stderr: "noise" / "connecting with ••••" / "ValueError: bad shape"',
    );
    expect(end.failureClass).toBe('user');
    const listed = (await tc.app.inject({ url: '/api/v1/training-jobs?name=says-why' })).json() as {
      items: { reason: string | null; failureClass: string | null }[];
    };
    expect(listed.items[0]!.reason).toBe(end.reason);
    expect(listed.items[0]!.failureClass).toBe('user');
    // The list filters by class.
    const byClass = async (c: string) =>
      ((await tc.app.inject({ url: `/api/v1/training-jobs?failureClass=${c}` })).json() as { total: number }).total;
    expect(await byClass('user')).toBe(1);
    expect(await byClass('resources')).toBe(0);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?failureClass=cosmic-rays' })).statusCode).toBe(400);
  });
});
