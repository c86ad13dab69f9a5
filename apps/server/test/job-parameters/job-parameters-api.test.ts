import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob, TrainingJobConfig } from '@tc/contracts';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { ENDED, jobRequest, submit, untilStatus } from '../support/jobs.js';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';

let tc: TestConsole;
let rootImage: string;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  [rootImage] = await Promise.all([buildTestImage('root'), uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.txt': 'A' })]);
});
afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

const parameters = () => {
  const { name: _name, ...rest } = jobRequest('unused', rootImage, 'sh /home/work/user-job-dir/code/run.sh', {
    env: [{ name: 'EPOCHS', value: '3' }],
    resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
  });
  return rest;
};

const post = (url: string, payload: unknown) => tc.app.inject({ method: 'POST', url, payload: payload as object });

async function jobCount(name: string): Promise<number> {
  return (await tc.app.inject({ url: `/api/v1/training-jobs?name=${name}` })).json().total;
}

describe('job parameter configurations', () => {
  it('saves, reads, lists with search and pages, replaces and deletes a configuration', async () => {
    const created = await post('/api/v1/training-job-configs', { name: 'cfg-a', description: 'first', parameters: parameters() });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ name: 'cfg-a', description: 'first', sourceJob: null, parameters: parameters() });
    for (const n of ['cfg-b', 'other'])
      expect((await post('/api/v1/training-job-configs', { name: n, parameters: parameters() })).statusCode).toBe(201);

    const found = (await tc.app.inject({ url: '/api/v1/training-job-configs?name=cfg' })).json();
    expect(found.total).toBe(2);
    expect(found.items.map((c: TrainingJobConfig) => c.name).sort()).toEqual(['cfg-a', 'cfg-b']);
    const page = (await tc.app.inject({ url: '/api/v1/training-job-configs?pageSize=2&page=2' })).json();
    expect(page).toMatchObject({ total: 3 });
    expect(page.items).toHaveLength(1);

    const changed = { ...parameters(), env: [{ name: 'EPOCHS', value: '9' }] };
    const put = await tc.app.inject({
      method: 'PUT',
      url: '/api/v1/training-job-configs/cfg-a',
      payload: { description: 'second', parameters: changed },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ name: 'cfg-a', description: 'second', parameters: { env: [{ name: 'EPOCHS', value: '9' }] } });
    expect(put.json().updatedAt >= put.json().createdAt).toBe(true);
    expect((await tc.app.inject({ url: '/api/v1/training-job-configs/cfg-a' })).json().parameters.env).toEqual([
      { name: 'EPOCHS', value: '9' },
    ]);

    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-job-configs/cfg-b' })).statusCode).toBe(204);
    expect((await tc.app.inject({ url: '/api/v1/training-job-configs/cfg-b' })).statusCode).toBe(404);
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-job-configs/cfg-b' })).statusCode).toBe(404);
    const putMissing = await tc.app.inject({
      method: 'PUT',
      url: '/api/v1/training-job-configs/cfg-b',
      payload: { parameters: parameters() },
    });
    expect(putMissing.statusCode).toBe(404);
  });

  it('refuses a taken name with 409 and bad input with 400 naming every field', async () => {
    expect((await post('/api/v1/training-job-configs', { name: 'cfg-a', parameters: parameters() })).statusCode).toBe(409);
    const bad = await post('/api/v1/training-job-configs', {
      name: '9nope',
      description: 'x'.repeat(300),
      parameters: { ...parameters(), trainOutput: 'obs://jobs/data/inside/', env: [{ name: 'RANK', value: '1' }] },
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'description', 'parameters.trainOutput', 'parameters.env.0.name']));
    expect((await post('/api/v1/training-job-configs', { name: 'x' })).json().fields.map((f: { path: string }) => f.path)).toEqual([
      'parameters',
    ]);
    expect((await tc.app.inject({ url: '/api/v1/training-job-configs/bad%20name' })).statusCode).toBe(400);
  });

  it('saves the parameters of a create that asks to, and the set survives deleting the job', async () => {
    const job = await submit(
      tc,
      jobRequest('saver', rootImage, 'true', { saveConfig: { name: 'from-saver', description: 'saved on submit' } }),
    );
    const saved = (await tc.app.inject({ url: '/api/v1/training-job-configs/from-saver' })).json() as TrainingJobConfig;
    expect(saved).toMatchObject({ name: 'from-saver', description: 'saved on submit', sourceJob: { name: 'saver', version: 'V001' } });
    expect(saved.parameters).not.toHaveProperty('name');
    expect(saved.parameters).not.toHaveProperty('saveConfig');
    // As the server resolved it: the default flavor is written out.
    expect(saved.parameters.resources).toMatchObject({ pool: 'public', type: 'CPU', nodes: 1 });
    expect(job.events.map((e) => e.message)).toContain('parameters saved as configuration from-saver');

    await untilStatus(tc, job, ENDED);
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-jobs/saver/versions/V001' })).statusCode).toBe(204);
    expect((await tc.app.inject({ url: '/api/v1/training-job-configs/from-saver' })).json()).toEqual(saved);
  });

  it('refuses a create whose saveConfig.name is taken with 409, before any job exists', async () => {
    const res = await post('/api/v1/training-jobs', jobRequest('dup-saver', rootImage, 'true', { saveConfig: { name: 'cfg-a' } }));
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().message).toMatch(/^saveConfig\.name: .*cfg-a already exists; no job was created$/);
    expect(await jobCount('dup-saver')).toBe(0);
    expect((await tc.app.inject({ url: '/api/v1/training-job-configs/cfg-a' })).json().description).toBe('second');
  });

  it('creates jobs from a configuration: each a version of the name given, with the saved parameters', async () => {
    const first = await post('/api/v1/training-job-configs/cfg-a/jobs', { jobName: 'from-cfg' });
    expect(first.statusCode, first.body).toBe(201);
    const job = first.json() as TrainingJob;
    expect(job).toMatchObject({ name: 'from-cfg', version: 'V001' });
    expect(job.spec.env).toEqual([{ name: 'EPOCHS', value: '9' }]);
    expect(job.spec.algorithm.imagePath).toBe(rootImage);
    const second = await post('/api/v1/training-job-configs/cfg-a/jobs', { jobName: 'from-cfg', description: 'again' });
    expect(second.json()).toMatchObject({ version: 'V002', description: 'again' });

    expect((await post('/api/v1/training-job-configs/missing/jobs', { jobName: 'x' })).statusCode).toBe(404);
    const bad = await post('/api/v1/training-job-configs/cfg-a/jobs', { jobName: '1-bad' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].path).toBe('jobName');
    await untilStatus(tc, job, ENDED);
  });

  it('checks a saved set against today’s rules and the store when a job is made from it', async () => {
    const gone = { ...parameters(), data: { source: 'path', path: 'obs://no-such-bucket/data/' } };
    expect((await post('/api/v1/training-job-configs', { name: 'stale', parameters: gone })).statusCode).toBe(201);
    const res = await post('/api/v1/training-job-configs/stale/jobs', { jobName: 'from-stale' });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([
      { path: 'parameters.data.path', message: expect.stringMatching(/no-such-bucket.*in the saved configuration stale; edit it first/) },
    ]);
    expect(await jobCount('from-stale')).toBe(0);
  });
});
