import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Budget } from '@tc/contracts';
import type { TestConsole } from '../support/console.js';
import { ENDED, jobRequest, submit, untilStatus, startJobsConsole, closeJobsConsole } from '../support/jobs.js';

// 2 core-hours: a 1-vCPU job may be given up to 120 minutes, one of 2 nodes up to 60.
let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ BUDGET_CORE_HOURS: '2', GPU_HOUR_WEIGHT: '10' }));
});

afterAll(() => closeJobsConsole(tc));

const cpu = (nodes: number) => ({ resources: { pool: 'public', type: 'CPU', flavor: 'cpu.1u2g', nodes } });
const create = (body: Record<string, unknown>) => tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: body });

describe('the budget refuses a job its balance cannot cover', () => {
  it('refuses with 400 on maxRuntimeMinutes when nodes × vCPUs × max running time exceeds the balance', async () => {
    const res = await create(jobRequest('too-long', image, 'true', { ...cpu(2), maxRuntimeMinutes: 61 }));
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.fields).toEqual([
      {
        path: 'maxRuntimeMinutes',
        message: expect.stringMatching(/^the job may use up to 2\.033 core-hours but the budget's balance is 2; shorten/),
      },
    ]);
    // Nothing was created.
    expect((await tc.app.inject({ url: '/api/v1/training-jobs/too-long/versions' })).statusCode).toBe(404);
  });

  it('accepts a job within the balance, and one without a max running time (no estimate)', async () => {
    const within = await submit(tc, jobRequest('within', image, 'true', { ...cpu(2), maxRuntimeMinutes: 60 }));
    const unbounded = await submit(tc, jobRequest('unbounded', image, 'true', cpu(1)));
    for (const job of [within, unbounded]) expect((await untilStatus(tc, job, ENDED)).status).toBe('Successful');
    // The balance is what the rule compares with, as the budget API shows it.
    const b: Budget = (await tc.app.inject({ url: '/api/v1/budget' })).json();
    expect(b.balanceCoreHours).toBeLessThan(2);
    const over = await create(jobRequest('over', image, 'true', { ...cpu(1), maxRuntimeMinutes: 120 }));
    expect(over.statusCode, over.body).toBe(400);
  });
});
