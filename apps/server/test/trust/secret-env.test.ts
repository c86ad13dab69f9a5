import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob, TrainingJobConfig } from '@tc/contracts';
import type { TestConsole } from '../support/console.js';
import { allLogLines, closeJobsConsole, ENDED, jobRequest, startJobsConsole, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
});

afterAll(() => closeJobsConsole(tc));

const SECRET = 's3cr3t-value-0123456789';
// The container proves it got the value without printing it: its length and a fixed prefix check.
const PROBE = 'echo "len=${#API_TOKEN} ok=$(case "$API_TOKEN" in s3cr3t-*) echo yes;; *) echo no;; esac) plain=$PLAIN"';

async function logOf(job: Pick<TrainingJob, 'name' | 'version'>): Promise<string> {
  return (await allLogLines(tc, job)).map((l) => l.text).join('\n');
}

describe('environment values marked secret', () => {
  it('reach the container, and no answer shows them again: job, saved parameters, list', async () => {
    const env = [
      { name: 'API_TOKEN', value: SECRET, secret: true },
      { name: 'PLAIN', value: 'visible' },
    ];
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('secret-env', image, PROBE, { env, saveConfig: { name: 'with-secret' } }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.body).not.toContain(SECRET);
    expect(res.json<TrainingJob>().spec.env).toEqual([
      { name: 'API_TOKEN', value: '', secret: true },
      { name: 'PLAIN', value: 'visible' },
    ]);
    const job = await untilStatus(tc, res.json(), ENDED);
    expect(job.status, job.reason ?? '').toBe('Successful');
    expect(await logOf(job)).toContain(`len=${SECRET.length} ok=yes plain=visible`);

    for (const url of [
      `/api/v1/training-jobs/${job.name}/versions/${job.version}`,
      '/api/v1/training-jobs',
      '/api/v1/training-job-configs/with-secret',
      '/api/v1/training-job-configs',
      '/api/v1/audit-log',
    ]) {
      const body = (await tc.app.inject({ url })).body;
      expect(body, url).not.toContain(SECRET);
    }
  });

  it('keeps a saved secret when the set is edited with the blank value answers show, and uses it for new jobs', async () => {
    const saved = (await tc.app.inject({ url: '/api/v1/training-job-configs/with-secret' })).json<TrainingJobConfig>();
    const edited = await tc.app.inject({
      method: 'PUT',
      url: '/api/v1/training-job-configs/with-secret',
      payload: {
        description: 'edited',
        parameters: { ...saved.parameters, env: [...(saved.parameters.env ?? []), { name: 'MORE', value: '1' }] },
      },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.body).not.toContain(SECRET);
    const made = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-job-configs/with-secret/jobs',
      payload: { jobName: 'secret-again' },
    });
    expect(made.statusCode, made.body).toBe(201);
    const job = await untilStatus(tc, made.json(), ENDED);
    expect(job.status, job.reason ?? '').toBe('Successful');
    expect(await logOf(job)).toContain(`len=${SECRET.length} ok=yes plain=visible`);
  });
});
