import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';

let tc: TestConsole;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  await uploadText(tc.store, 'bkt', { 'code/train.sh': 'true', 'data/a.csv': 'x,y' });
});
afterAll(() => tc?.close());

const valid = () => ({
  name: 'retry-api-job',
  algorithm: { source: 'custom', imagePath: 'nothing/here:1', codeDir: 'obs://bkt/code/', bootCommand: 'true' },
  data: { source: 'path', path: 'obs://bkt/data/' },
  trainOutput: 'obs://bkt/out/',
});

const create = (payload: Record<string, unknown>) => tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload });

describe('create: the retry policy', () => {
  it('is a 400 naming the field for a count outside 0–3 or an unknown class', async () => {
    const many = await create({ ...valid(), retry: { maxAttempts: 5 } });
    expect(many.statusCode).toBe(400);
    expect(many.json().fields).toEqual([{ path: 'retry.maxAttempts', message: 'Automatic Retry must be at most 3' }]);
    const cls = await create({ ...valid(), retry: { maxAttempts: 1, on: ['stopped'] } });
    expect(cls.statusCode).toBe(400);
    expect(cls.json().fields).toEqual([expect.objectContaining({ path: 'retry.on.0' })]);
  });

  it('is kept with the job, which shows attempt 1 of maxAttempts + 1', async () => {
    const res = await create({ ...valid(), retry: { maxAttempts: 2, on: ['platform', 'resources'] } });
    expect(res.statusCode, res.body).toBe(201);
    const job = res.json();
    expect(job.spec.retry).toEqual({ maxAttempts: 2, on: ['platform', 'resources'] });
    expect(job.attempt).toBe(1);
    expect(job.maxAttempts).toBe(3);
  });
});

describe('create: the Checkpoint Path', () => {
  it('is a 400 naming the field inside the data path or in a bucket that does not exist', async () => {
    const inside = await create({ ...valid(), checkpointPath: 'obs://bkt/data/ckpt/' });
    expect(inside.statusCode).toBe(400);
    expect(inside.json().fields).toEqual([{ path: 'checkpointPath', message: 'Checkpoint Path must not be the data path or inside it' }]);
    const missing = await create({ ...valid(), checkpointPath: 'obs://no-such-bucket/ckpt/' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().fields).toEqual([
      expect.objectContaining({ path: 'checkpointPath', message: expect.stringMatching(/does not exist/) }),
    ]);
  });

  it('refuses the checkpoint variables as user variables', async () => {
    const res = await create({ ...valid(), env: [{ name: 'MA_CHECKPOINT_DIR', value: '/tmp' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0].path).toBe('env.0.name');
  });
});
