import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestConsole } from '../support/console.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
});

afterAll(() => closeJobsConsole(tc));

const json = { 'content-type': 'application/json' };

describe('body-less actions sent with content-type: application/json', () => {
  it('accepts an empty body on stop and on a topic’s secret rotation', async () => {
    const job = await submit(tc, jobRequest('stop-empty-body', image, 'sleep 300'));
    await untilStatus(tc, job, ['Running']);
    const stop = await tc.app.inject({
      method: 'POST',
      url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop`,
      headers: json,
      payload: '',
    });
    expect(stop.statusCode, stop.body).toBe(200);
    expect((await untilStatus(tc, job, ENDED)).status).toBe('Stopped');

    expect((await tc.app.inject({ method: 'POST', url: '/api/v1/notification-topics', payload: { name: 'empty-body' } })).statusCode).toBe(
      201,
    );
    const rotate = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/notification-topics/empty-body/secret',
      headers: json,
      payload: '',
    });
    expect(rotate.statusCode, rotate.body).toBe(200);
    expect(rotate.json().secret).toEqual(expect.any(String));
  });

  it('still refuses an empty body where a body is required, naming it', async () => {
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/notification-topics', headers: json, payload: '' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_input');
  });
});

describe('text that is not clean', () => {
  it('refuses a body whose bytes are not UTF-8, rather than storing U+FFFD in their place', async () => {
    const bytes = Buffer.concat([Buffer.from('{"name":"utf8-topic","description":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/notification-topics', headers: json, payload: bytes });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_utf8', message: 'the request body is not valid UTF-8' });
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/utf8-topic' })).statusCode).toBe(404);
  });

  it('refuses NUL, bidi overrides and U+FFFD in names, descriptions and paths with a 400 naming the field', async () => {
    const cases: [string, string, Record<string, unknown>, string][] = [
      ['POST', '/api/v1/notification-topics', { name: 'bidi', description: 'pay \u202eexe.txt' }, 'description'],
      ['POST', '/api/v1/datasets', { name: 'ds', path: 'obs://jobs/da\u2066ta/' }, 'path'],
      ['POST', '/api/v1/auth/tokens', { name: 'ci\u0000' }, 'name'],
      ['POST', '/api/v1/training-jobs', { ...jobRequest('fffd', image, 'true'), description: 'caf\ufffd' }, 'description'],
      ['POST', '/api/v1/training-jobs', jobRequest('bidi-cmd', image, 'echo ok \u2067# harmless'), 'algorithm.bootCommand'],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await tc.app.inject({ method: method as 'POST', url, payload });
      expect(res.statusCode, `${url} ${res.body}`).toBe(400);
      expect(res.json().fields.map((f: { path: string }) => f.path)).toEqual([field]);
    }
  });
});

describe('environment variables', () => {
  const env = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `V${i}`, value: String(i) }));

  it('allows at most 100 per job and per parameter set, with a 400 naming env', async () => {
    const job = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: { ...jobRequest('envs', image, 'true'), env: env(101) },
    });
    expect(job.statusCode).toBe(400);
    expect(job.json().fields).toEqual([{ path: 'env', message: 'at most 100 environment variables per job' }]);
    const { name: _name, ...parameters } = jobRequest('envs', image, 'true');
    const set = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-job-configs',
      payload: { name: 'envs', parameters: { ...parameters, env: env(101) } },
    });
    expect(set.statusCode).toBe(400);
    expect(set.json().fields).toEqual([{ path: 'parameters.env', message: 'at most 100 environment variables per job' }]);
  });
});
