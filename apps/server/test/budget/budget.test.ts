import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Budget, JobConsumptionList } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { ENDED, jobRequest, submit, untilStatus, startJobsConsole, closeJobsConsole } from '../support/jobs.js';

// 0.0005 core-hours = 1.8 core-seconds: a 3 s job on 1 vCPU uses it up.
const LIMIT = 0.0005;
let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ BUDGET_CORE_HOURS: String(LIMIT), GPU_HOUR_WEIGHT: '10' }));
});

afterAll(() => closeJobsConsole(tc));

async function budget(): Promise<Budget> {
  const res = await tc.app.inject({ url: '/api/v1/budget' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const oneCpu = { resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 } };
const hoursBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 3_600_000;

describe('the core-hour budget', () => {
  it('starts in credit with nothing used', async () => {
    expect(await budget()).toMatchObject({
      limitCoreHours: LIMIT,
      usedCoreHours: 0,
      balanceCoreHours: LIMIT,
      inArrears: false,
      gpuHourWeight: 10,
      jobs: [],
    });
  });

  it('meters a job from its run time × vCPUs, live while it runs; then refuses the next create with 402', async () => {
    const job = await submit(tc, jobRequest('burn', image, 'sleep 3', oneCpu));
    await untilStatus(tc, job, ['Running']);
    const live = await waitFor('consumption while running', async () => {
      const b = await budget();
      return b.usedCoreHours > 0 ? b : null;
    });
    expect(live.jobs).toEqual([expect.objectContaining({ name: 'burn', version: 'V001', status: 'Running', endedAt: null, vcpus: 1 })]);

    const ended = await untilStatus(tc, job, ENDED);
    expect(ended.status).toBe('Successful');
    const ran = hoursBetween(ended.startedAt!, ended.endedAt!);
    expect(ran).toBeGreaterThanOrEqual(3 / 3600);

    const b = await budget();
    // Ended: the same figure however late it is read, equal to the job's own start → end.
    expect(b.usedCoreHours).toBeCloseTo(ran, 8);
    expect(b.balanceCoreHours).toBeCloseTo(LIMIT - ran, 8);
    expect(b.inArrears).toBe(true);
    expect(b.jobs).toEqual([
      {
        name: 'burn',
        version: 'V001',
        status: 'Successful',
        pool: 'public',
        flavor: 'cpu.1u2g',
        vcpus: 1,
        gpus: 0,
        nodes: 1,
        startedAt: ended.startedAt,
        endedAt: ended.endedAt,
        hours: expect.closeTo(ran, 8),
        coreHours: expect.closeTo(ran, 8),
      },
    ]);
    expect((await budget()).usedCoreHours).toBe(b.usedCoreHours);

    const refused = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('next', image, 'true', oneCpu),
    });
    expect(refused.statusCode, refused.body).toBe(402);
    expect(refused.json()).toMatchObject({
      error: 'in_arrears',
      message: expect.stringMatching(/account is in arrears.*core-hour budget/),
      requestId: expect.any(String),
    });
    // Refused before anything was stored.
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?name=next' })).json().total).toBe(0);
  });

  it('lists each job’s consumption, and a deleted job still counts', async () => {
    const page = (await tc.app.inject({ url: '/api/v1/budget/jobs?page=1&pageSize=10' })).json() as JobConsumptionList;
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({ name: 'burn', status: 'Successful' });
    const before = (await budget()).usedCoreHours;

    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-jobs/burn/versions/V001' })).statusCode).toBe(204);
    const after = await budget();
    expect(after.usedCoreHours).toBe(before);
    expect(after.jobs[0]).toMatchObject({ name: 'burn', status: null });
    expect(
      (await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: jobRequest('again', image, 'true') })).statusCode,
    ).toBe(402);
  });

  it('answers 400 naming each bad query field', async () => {
    const res = await tc.app.inject({ url: '/api/v1/budget/jobs?page=0&pageSize=1000' });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .fields.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['page', 'pageSize']);
  });
});
