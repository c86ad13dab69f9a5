import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, TrainingJob, VersionComparison } from '@tc/contracts';
import { uploadText, waitFor, type TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
const jobs: TrainingJob[] = [];

// Two epochs; the last loss comes from the LOSS variable, so versions end differently.
const BOOT = 'echo "epoch 1/2 loss=0.9 acc=0.5"; echo "epoch 2/2 loss=$LOSS acc=0.75"';
const url = (versions: string, name = 'cmp-api') => `/api/v1/training-jobs/${name}/comparison?versions=${versions}`;

beforeAll(async () => {
  const started = await startJobsConsole();
  tc = started.tc;
  image = started.image;
  await uploadText(tc.store, 'jobs', { 'data2/b.csv': 'x,y\n3,4\n' });
  const env = (loss: string, token: string) => [
    { name: 'LOSS', value: loss },
    { name: 'TOKEN', value: token, secret: true },
  ];
  jobs.push(await submit(tc, jobRequest('cmp-api', image, BOOT, { env: env('0.4', 'first-secret') })));
  jobs.push(
    await submit(
      tc,
      jobRequest('cmp-api', image, BOOT, { env: env('0.2', 'second-secret'), data: { source: 'path', path: 'obs://jobs/data2/' } }),
    ),
  );
  for (const job of jobs) expect((await untilStatus(tc, job, ENDED)).status).toBe('Successful');
  await waitFor('the last loss of both versions', async () => {
    const c = (await tc.app.inject({ url: url('V001,V002') })).json<VersionComparison>();
    return c.versions?.every((v) => v.finalMetrics.loss !== undefined && v.finalMetrics.loss !== 0.9);
  });
}, 120_000);
afterAll(async () => {
  await closeJobsConsole(tc);
});

describe('version comparison', () => {
  it('puts the versions side by side in the order asked, with the parameters that differ', async () => {
    const res = await tc.app.inject({ url: url('V002,V001') });
    expect(res.statusCode, res.body).toBe(200);
    const c = res.json<VersionComparison>();
    expect(c.name).toBe('cmp-api');
    const [v2, v1] = c.versions;
    expect(c.versions.map((v) => v.version)).toEqual(['V002', 'V001']);
    expect(v1).toMatchObject({
      status: 'Successful',
      imagePath: image,
      data: { source: 'path', path: 'obs://jobs/data/' },
      nodes: 1,
      finalMetrics: { loss: 0.4, acc: 0.75 },
    });
    expect(v2).toMatchObject({ data: { source: 'path', path: 'obs://jobs/data2/' }, finalMetrics: { loss: 0.2, acc: 0.75 } });
    expect(v1!.imageId).toMatch(/^sha256:/);
    expect(v1!.imageId).toBe(v2!.imageId);
    expect(v1!.flavor).toBe(v2!.flavor);
    expect(v1!.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(v1!.parameters['env.LOSS']).toBe('0.4');
    expect(v2!.parameters['env.LOSS']).toBe('0.2');
    expect(v1!.parameters['algorithm.bootCommand']).toBe(BOOT);
    // Both wrote to the same output path: not a difference. The secret is neither shown nor compared.
    expect(c.differingParameters).toEqual(['data', 'env.LOSS']);
  });

  it('never shows a secret value', async () => {
    const res = await tc.app.inject({ url: url('V001,V002') });
    expect(res.body).not.toContain('first-secret');
    expect(res.body).not.toContain('second-secret');
    expect(res.json<VersionComparison>().versions[0]!.parameters['env.TOKEN']).toBe('(secret)');
  });

  it.each([
    ['', 'one version is not a comparison'],
    ['V001', 'one version is not a comparison'],
    ['V001,V001', 'each version may be named once'],
    ['V001,latest', 'latest is not a version like V001'],
    [Array.from({ length: 11 }, (_, i) => `V${String(i + 1).padStart(3, '0')}`).join(','), 'too many'],
  ])('answers 400 naming versions for %j (%s)', async (versions) => {
    const res = await tc.app.inject({ url: url(versions) });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json<ApiError>().fields?.map((f) => f.path)).toEqual(['versions']);
  });

  it('answers 400 naming versions when the query has none', async () => {
    const res = await tc.app.inject({ url: '/api/v1/training-jobs/cmp-api/comparison' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json<ApiError>().fields?.map((f) => f.path)).toEqual(['versions']);
  });

  it('answers 404 for a job or a version that does not exist', async () => {
    const missing = await tc.app.inject({ url: url('V001,V009') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ApiError>().message).toContain('V009');
    expect((await tc.app.inject({ url: url('V001,V002', 'no-such-job') })).statusCode).toBe(404);
  });

  it("hides another user's versions as if they did not exist", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'cmp-stranger');
    const res = await tc.app.inject({ url: url('V001,V002'), headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(404);
    expect((await tc.anonymous({ url: url('V001,V002') })).statusCode).toBe(401);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await tc.app.inject({ url: '/api/docs/json' })).json<{
      paths: Record<string, { get?: { parameters?: { name: string }[] } }>;
    }>();
    const op = doc.paths['/api/v1/training-jobs/{name}/comparison']?.get;
    expect(op?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['name', 'versions']));
  });
});
