import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import type { TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let job: TrainingJob;
const model = randomBytes(300_000);

beforeAll(async () => {
  const started = await startJobsConsole();
  tc = started.tc;
  job = await submit(tc, jobRequest('outputs-api', started.image, 'true'));
  await untilStatus(tc, job, ENDED);
  // Written after the run, so the bytes are known exactly; the job's own upload is covered elsewhere.
  await tc.store.upload('jobs', 'out/outputs-api/model.bin', model);
  await tc.store.upload('jobs', 'out/outputs-api/ckpt/step 1.txt', Buffer.from('one\n'));
  await tc.store.upload('jobs', 'out/outputs-api/ckpt/', Buffer.alloc(0), 'application/x-directory');
  await tc.store.upload('jobs', 'out/outputs-api-other/secret.txt', Buffer.from('not this job'));
});
afterAll(async () => {
  await closeJobsConsole(tc);
});

const base = '/api/v1/training-jobs/outputs-api/versions/V001/outputs';

describe('GET /training-jobs/{name}/versions/{version}/outputs', () => {
  it('lists the files below the Training Output Path, keys relative to it, without folder markers', async () => {
    const res = await tc.app.inject({ url: base });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      path: 'obs://jobs/out/outputs-api/',
      items: [
        { key: 'ckpt/step 1.txt', size: 4 },
        { key: 'model.bin', size: model.length },
      ],
    });
  });

  it('streams one file byte for byte, nested keys included', async () => {
    const res = await tc.app.inject({ url: `${base}/model.bin` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.rawPayload.equals(model)).toBe(true);
    const nested = await tc.app.inject({ url: `${base}/ckpt/step%201.txt` });
    expect(nested.statusCode, nested.body).toBe(200);
    expect(nested.body).toBe('one\n');
  });

  it('refuses keys that would leave the output path, and names missing files', async () => {
    const up = await tc.app.inject({ url: `${base}/..%2F..%2Fout%2Foutputs-api-other%2Fsecret.txt` });
    expect(up.statusCode, up.body).toBe(400);
    expect(up.json().message).toMatch(/Output key/);
    const missing = await tc.app.inject({ url: `${base}/nope.bin` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toMatch(/output nope\.bin of outputs-api V001 does not exist/);
  });

  it("hides another user's job outputs as if the job did not exist", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'outputs-stranger');
    const headers = { authorization: `Bearer ${token}` };
    expect((await tc.app.inject({ url: base, headers })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: `${base}/model.bin`, headers })).statusCode).toBe(404);
    expect((await tc.anonymous({ url: `${base}/model.bin` })).statusCode).toBe(401);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = tc.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/outputs']?.get).toBeTruthy();
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/v1/training-jobs/{name}/versions/{version}/outputs/'))).toBe(true);
  });
});
