import net from 'node:net';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import type { TrainingJob } from '@tc/contracts';
import { allLogLines, ENDED, getJob, jobRequest, submit, untilStatus, consoleLabel } from '../support/jobs.js';

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
    expect(
      await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`, consoleLabel(tc!.dataDir)] } }),
    ).toEqual([]);
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

/** Every request below needs the store; each is asked the same way while it is down and after. */
function storeRequests(tc: TestConsole, tag: string) {
  const post = (url: string, payload: object) => () => tc.app.inject({ method: 'POST', url, payload });
  const get = (url: string) => () => tc.app.inject({ url });
  return {
    'job create': post('/api/v1/training-jobs', jobRequest(`job-${tag}`, image, 'true')),
    'job from a parameter set': post('/api/v1/training-job-configs/saved/jobs', { jobName: `from-saved-${tag}` }),
    'bucket list': get('/api/v1/storage/buckets'),
    'folder list': get('/api/v1/storage/buckets/jobs/objects?prefix=code/'),
    'dataset create': post('/api/v1/datasets', { name: `ds-${tag}`, path: 'obs://jobs/data/' }),
    'dataset publish': post('/api/v1/datasets/before/versions', {}),
  };
}

/** Made while the store is up: a parameter set and a dataset to create a job from and publish. */
async function seed(tc: TestConsole): Promise<void> {
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': '1,2' });
  const { name: _name, ...parameters } = jobRequest('unused', image, 'true');
  const saved = await tc.app.inject({ method: 'POST', url: '/api/v1/training-job-configs', payload: { name: 'saved', parameters } });
  expect(saved.statusCode, saved.body).toBe(201);
  const dataset = await tc.app.inject({ method: 'POST', url: '/api/v1/datasets', payload: { name: 'before', path: 'obs://jobs/data/' } });
  expect(dataset.statusCode, dataset.body).toBe(201);
}

type Request = ReturnType<typeof storeRequests>[keyof ReturnType<typeof storeRequests>];

async function expectUnavailable(tc: TestConsole, requests: Record<string, Request>, why: RegExp): Promise<void> {
  for (const [what, request] of Object.entries(requests)) {
    const res = await request();
    expect(res.statusCode, `${what}: ${res.body}`).toBe(503);
    expect(res.json(), what).toMatchObject({ error: 'store_unavailable', message: expect.stringMatching(why) });
  }
  const health = await tc.app.inject({ url: '/api/health' });
  expect(health.statusCode).toBe(503);
  expect(health.json().checks.objectStore).toEqual({ ok: false, message: expect.stringMatching(why) });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('requests that need the object store while it is down', () => {
  it('answer 503 naming the store and the cause, and answer normally once it is back', { timeout: 120_000 }, async () => {
    tc = await startTestConsole('embedded');
    await seed(tc);
    const doc = (await tc.app.inject({ url: '/api/docs/json' })).json();
    for (const [path, method] of [
      ['/api/v1/training-jobs', 'post'],
      ['/api/v1/training-job-configs/{name}/jobs', 'post'],
      ['/api/v1/storage/buckets', 'get'],
      ['/api/v1/storage/buckets/{bucket}/objects', 'get'],
      ['/api/v1/storage/buckets/{bucket}/folders', 'post'],
      ['/api/v1/datasets', 'post'],
      ['/api/v1/datasets/{name}/versions', 'post'],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses), `${method} ${path}`).toContain('503');
    }
    await tc.stopStore();

    const port = new URL(tc.storeEndpoint).port;
    const refused = new RegExp(
      `^the object store at ${escape(tc.storeEndpoint)} is unavailable: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`,
    );
    await expectUnavailable(tc, storeRequests(tc, 'down'), refused);
    const made = await tc.app.inject({ url: '/api/v1/training-jobs?name=job-down' });
    expect(made.json().total).toBe(0);

    await tc.restartStore();
    const expected: Record<string, number> = {
      'job create': 201,
      'job from a parameter set': 201,
      'bucket list': 200,
      'folder list': 200,
      'dataset create': 201,
      'dataset publish': 201,
    };
    const jobs: TrainingJob[] = [];
    for (const [what, request] of Object.entries(storeRequests(tc, 'up'))) {
      const res = await request();
      expect(res.statusCode, `${what}: ${res.body}`).toBe(expected[what]);
      if (what.startsWith('job')) jobs.push(res.json());
    }
    const health = await tc.app.inject({ url: '/api/health' });
    expect(health.json().checks.objectStore).toEqual({ ok: true });
    // The jobs accepted once it is back stage from it and run.
    for (const job of jobs) expect((await untilStatus(tc, job, ENDED, 60_000)).status).toBe('Successful');
  });

  it('a store that accepts connections but never answers: 503 once the call deadline passes', { timeout: 120_000 }, async () => {
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    try {
      tc = await startTestConsole('embedded', {}, { signIn: true, storeEndpoint: endpoint, storeOptions: { callTimeoutMs: 500 } });
      const requests = storeRequests(tc, 'hung');
      await expectUnavailable(
        tc,
        { 'job create': requests['job create'], 'folder list': requests['folder list'], 'dataset create': requests['dataset create'] },
        new RegExp(`^the object store at ${escape(endpoint)} is unavailable: no answer within 500 ms`),
      );
    } finally {
      await tc?.close();
      tc = undefined;
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => hung.close(r));
    }
  });
});
