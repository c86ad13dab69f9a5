import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { demoJobRequest, seedDemo } from '../../src/demo/seed-demo.js';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { readObject, startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';

let tc: TestConsole;
let goodImage: string;
let rootImage: string;

async function submit(body: Record<string, unknown>): Promise<TrainingJob> {
  const res = await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function get(name: string, version: string): Promise<TrainingJob> {
  return (await tc.app.inject({ url: `/api/v1/training-jobs/${name}/versions/${version}` })).json();
}

const TERMINAL = ['Successful', 'Running failed', 'Stopped'];

async function untilEnded(job: TrainingJob): Promise<{ job: TrainingJob; seen: string[] }> {
  const seen: string[] = [job.status];
  const end = await waitFor(`${job.name} ${job.version} to end`, async () => {
    const j = await get(job.name, job.version);
    if (seen[seen.length - 1] !== j.status) seen.push(j.status);
    return TERMINAL.includes(j.status) ? j : null;
  });
  return { job: end, seen };
}

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  [goodImage, rootImage] = await Promise.all([buildTestImage('user1101'), buildTestImage('root')]);
  await seedDemo({ store: tc.store, engine: tc.engine, buildImage: async () => undefined, log: () => undefined });
});

afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

describe('the spine: a job submitted over the API runs the image with code and data from S3', () => {
  it('runs the demo to Successful, writes the model to the output path and the log to the log path', async () => {
    const created = await submit(demoJobRequest('linreg-demo', goodImage));
    expect(created).toMatchObject({ name: 'linreg-demo', version: 'V001', status: 'Initializing', reason: null });

    const { job, seen } = await untilEnded(created);
    expect(job.status, job.reason ?? '').toBe('Successful');
    expect(seen[0]).toBe('Initializing');
    expect(seen.every((s) => ['Initializing', 'Running', 'Successful'].includes(s))).toBe(true);
    expect(job.startedAt).not.toBeNull();
    expect(job.endedAt! >= job.startedAt!).toBe(true);
    expect(job.nodes).toEqual([
      {
        index: 0,
        hostname: 'linreg-demo-v001-0',
        state: 'exited',
        exitCode: 0,
        // The node's transfers as they ended, with their totals: code and data down, outputs up.
        transfers: [
          {
            step: 'download',
            files: expect.any(Number),
            filesTotal: expect.any(Number),
            bytes: expect.any(Number),
            bytesTotal: expect.any(Number),
            done: true,
          },
          {
            step: 'upload',
            files: expect.any(Number),
            filesTotal: expect.any(Number),
            bytes: expect.any(Number),
            bytesTotal: expect.any(Number),
            done: true,
          },
        ],
      },
    ]);
    const types = job.events.map((e) => e.type);
    // Code and data download side by side: either may end first.
    expect(types.slice(3, 5).sort()).toEqual(['code-download', 'data-download']);
    expect([...types.slice(0, 3), ...types.slice(5)]).toEqual([
      'created',
      'image-check',
      'download',
      'node-started',
      'node-exited',
      'output-upload',
      'log-upload',
      'status',
    ]);
    expect(job.events.find((e) => e.type === 'data-download')!.message).toMatch(
      /data downloaded to \/home\/work\/data\/: [1-9]\d* files?, \d+ bytes/,
    );

    const model = JSON.parse(await readObject(tc.store, 'demo', 'output/linreg/model.json')) as { w: number; b: number };
    expect(model.w).toBeGreaterThan(2.5);
    expect(model.w).toBeLessThan(3.5);

    const log = await readObject(tc.store, 'demo', 'logs/linreg-demo-V001-worker-0.log');
    expect(log).toContain('epoch 1/20');
    expect(log).toContain('epoch 20/20');

    // Logs through the API, a page at a time: the cursor continues without gap or repeat.
    const first = (await tc.app.inject({ url: '/api/v1/training-jobs/linreg-demo/versions/V001/logs?limit=5' })).json();
    expect(first.lines.map((l: { seq: number }) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    const rest = (
      await tc.app.inject({ url: `/api/v1/training-jobs/linreg-demo/versions/V001/logs?cursor=${first.nextCursor}&limit=5000` })
    ).json();
    expect(rest.lines[0].seq).toBe(6);
    expect(rest.complete).toBe(true);
    const texts = [...first.lines, ...rest.lines].map((l: { text: string }) => l.text);
    expect(texts.some((t: string) => /^epoch 20\/20 loss=/.test(t))).toBe(true);

    const download = await tc.app.inject({ url: '/api/v1/training-jobs/linreg-demo/versions/V001/logs/download' });
    expect(download.headers['content-type']).toContain('text/plain');
    expect(download.body).toContain('epoch 20/20');

    // Containers are gone once the job ended.
    // (This console's: other test files' consoles number their jobs from 1 too.)
    const consoleId = readFileSync(path.join(tc.dataDir, 'console-id'), 'utf8').trim();
    expect(await tc.engine.listManaged({ 'tc.job-id': String(created.id), 'tc.console': consoleId })).toEqual([]);

    // The next submit of the name is the next version.
    const second = await submit(demoJobRequest('linreg-demo', goodImage));
    expect(second.version).toBe('V002');
    await untilEnded(second);
  });

  it('fails an image whose default user is root at the image check, with the cause in events and log', async () => {
    const job = await submit({ ...demoJobRequest('root-image', rootImage) });
    const { job: end } = await untilEnded(job);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^image check failed: .*root.*UID 1101/);
    expect(end.startedAt).toBeNull();
    expect(end.events.find((e) => e.type === 'image-check')!.message).toMatch(/failed the check/);
    const logs = (await tc.app.inject({ url: `/api/v1/training-jobs/root-image/versions/V001/logs` })).json();
    expect(logs.lines.map((l: { text: string }) => l.text).join('\n')).toMatch(/must be UID 1101/);
  });

  it('fails with the exit code when the boot command exits 3, and still uploads outputs and logs', async () => {
    const body = demoJobRequest('exit-three', goodImage) as { algorithm: Record<string, string> };
    body.algorithm.bootCommand = 'echo partial > /home/work/outputs/partial.txt; echo about to fail; exit 3';
    const { job } = await untilEnded(await submit({ ...body, trainOutput: 'obs://demo/output/exit-three/' }));
    expect(job.status).toBe('Running failed');
    expect(job.reason).toBe('training failed: boot command exited with code 3');
    expect(job.nodes[0]!.exitCode).toBe(3);
    expect(await readObject(tc.store, 'demo', 'output/exit-three/partial.txt')).toBe('partial\n');
    expect(await readObject(tc.store, 'demo', 'logs/exit-three-V001-worker-0.log')).toContain('about to fail');
  });

  it('puts the code under /home/work/user-job-dir/<last segment>/ and injects the environment', async () => {
    await uploadText(tc.store, 'envcheck', { 'projects/new/main.sh': 'echo code-ran', 'in/a.txt': 'A' });
    const { job } = await untilEnded(
      await submit({
        name: 'env-check',
        algorithm: {
          source: 'custom',
          imagePath: goodImage,
          codeDir: 's3://envcheck/projects/new/',
          bootCommand:
            'sh /home/work/user-job-dir/new/main.sh; cat /home/work/data/a.txt; echo; id -u; env | sort | grep -E "^(DLS_|MA_|EPOCHS)"; touch /home/work/outputs/ok',
        },
        data: { source: 'path', path: 'obs://envcheck/in/' },
        trainOutput: 'obs://envcheck/out/',
        env: [{ name: 'EPOCHS', value: '7' }],
      }),
    );
    expect(job.status, job.reason ?? '').toBe('Successful');
    const lines = (await tc.app.inject({ url: '/api/v1/training-jobs/env-check/versions/V001/logs' }))
      .json()
      .lines.map((l: { text: string }) => l.text);
    expect(lines).toContain('code-ran');
    expect(lines).toContain('A');
    expect(lines).toContain('1101');
    expect(lines).toContain('EPOCHS=7');
    expect(lines).toContain('DLS_APP_URL=s3://envcheck/projects/new/');
    expect(lines).toContain('DLS_TRAIN_URL=obs://envcheck/out/');
    expect(lines).toContain('DLS_TASK_INDEX=0');
    expect(lines).toContain('MA_JOB_VERSION=V001');
  });
});
