import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobConsumptionList, TrainingJob } from '@tc/contracts';
import { readObject, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { testDocker } from '../support/images.js';
import {
  allLogLines,
  closeJobsConsole,
  consoleLabel,
  ENDED,
  getJob,
  jobRequest,
  startJobsConsole,
  submit,
  untilStatus,
  CHECKPOINT_COUNTER,
} from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ STOP_GRACE_SECONDS: '1', RETRY_BACKOFF_SECONDS: '1', CHECKPOINT_UPLOAD_SECONDS: '1' }));
});

afterAll(() => closeJobsConsole(tc));

async function untilLogged(job: Pick<TrainingJob, 'name' | 'version'>, text: string): Promise<void> {
  await waitFor(`${job.name} to log "${text}"`, async () => (await allLogLines(tc, job)).some((l) => l.text === text));
}

/** Removes the job's container as `docker rm -f` would: the run is lost for the platform's reasons. */
async function removeContainer(job: TrainingJob): Promise<void> {
  const [c] = await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${job.id}`, consoleLabel(tc.dataDir)] } });
  expect(c, 'the job has a container').toBeDefined();
  await testDocker().getContainer(c!.Id).remove({ force: true });
}

async function logTexts(job: Pick<TrainingJob, 'name' | 'version'>, query = ''): Promise<string[]> {
  const res = await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs?limit=5000${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { lines: { text: string }[] }).lines.map((l) => l.text);
}

describe('automatic retry', () => {
  it('retries a run whose container was removed (platform) as a second attempt, which succeeds', async () => {
    // The first attempt waits for a file the data does not hold yet; the retry stages it and ends.
    await uploadText(tc.store, 'jobs', { 'retry-data/a.csv': 'x\n' });
    const cmd = 'echo "attempt started"\nwhile [ ! -e /home/work/data/go ]; do sleep 0.2; done\necho done';
    const job = await submit(
      tc,
      jobRequest('retry-platform', image, cmd, { data: { source: 'path', path: 'obs://jobs/retry-data/' }, retry: { maxAttempts: 2 } }),
    );
    expect(job.attempt).toBe(1);
    expect(job.maxAttempts).toBe(3);
    await untilLogged(job, 'attempt started');
    await uploadText(tc.store, 'jobs', { 'retry-data/go': '' });
    await removeContainer(job);

    // Back through the queue as attempt 2 of 3: never shown as failed meanwhile.
    const retrying = await waitFor('the second attempt', async () => {
      const j = await getJob(tc, job);
      expect(j.status).not.toBe('Running failed');
      return j.attempt === 2 ? j : null;
    });
    expect(['Queuing', 'Initializing', 'Running', 'Successful']).toContain(retrying.status);

    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Successful');
    expect(end.reason).toBeNull();
    expect(end.attempt).toBe(2);
    expect(end.attempts).toHaveLength(2);
    const [first, second] = end.attempts!;
    expect(first).toMatchObject({ attempt: 1, status: 'Running failed', failureClass: 'platform' });
    expect(first!.reason).toMatch(/removed outside the console/);
    expect(first!.endedAt).not.toBeNull();
    expect(second).toMatchObject({ attempt: 2, status: 'Successful', reason: null, failureClass: null });
    const retry = end.events.find((e) => e.type === 'retry');
    expect(retry?.message).toMatch(/^attempt 1 of 3 failed \(platform\): .*; retrying as attempt 2 of 3 in 1 s$/);
    expect(end.events.filter((e) => e.type === 'node-started').map((e) => e.attempt)).toEqual([1, 2]);

    // Each attempt's own log: the latest by default, an earlier one by `attempt`.
    const latest = await logTexts(job);
    expect(latest).toContain('attempt 2 of 3');
    expect(latest).toContain('done');
    expect(latest).not.toContain('attempt 1 of 3');
    const earlier = await logTexts(job, '&attempt=1');
    expect(earlier).toContain('attempt 1 of 3');
    expect(earlier).toContain('attempt started');
    expect(earlier).not.toContain('done');
    expect(earlier).not.toContain('attempt 2 of 3');
    const file = await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs/download?node=0&attempt=1` });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-disposition']).toContain('retry-platform-V001-worker-0-attempt-1.log');
    expect(file.body).toContain('attempt started');
    expect(file.body).not.toContain('attempt 2 of 3');
    const whole = await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs/download?node=0` });
    expect(whole.body).toContain('attempt 1 of 3');
    expect(whole.body).toContain('attempt 2 of 3');
    const none = await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs?attempt=3` });
    expect(none.statusCode).toBe(400);
    expect(none.json().message).toMatch(/attempt/);

    // The budget meters both attempts, each from its own start to its own end.
    const usage = (await tc.app.inject({ url: '/api/v1/budget/jobs?pageSize=100' })).json() as JobConsumptionList;
    const runs = usage.items.filter((r) => r.name === 'retry-platform');
    expect(runs).toHaveLength(2);
    expect(runs.every((r) => r.endedAt !== null)).toBe(true);
  });

  it('does not retry a user exit under the default policy (platform only)', async () => {
    const job = await submit(tc, jobRequest('retry-user', image, 'echo failing >&2\nexit 3', { retry: { maxAttempts: 2 } }));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.failureClass).toBe('user');
    expect(end.reason).toMatch(/exited with code 3/);
    expect(end.attempt).toBe(1);
    expect(end.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'Running failed', failureClass: 'user' })]);
    expect(end.events.map((e) => e.type)).not.toContain('retry');
  });

  it('retries a user exit when the policy names it, and fails once every attempt is used', async () => {
    const job = await submit(tc, jobRequest('retry-user-on', image, 'exit 4', { retry: { maxAttempts: 1, on: ['user'] } }));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.attempt).toBe(2);
    expect(end.attempts!.map((a) => [a.attempt, a.status, a.failureClass])).toEqual([
      [1, 'Running failed', 'user'],
      [2, 'Running failed', 'user'],
    ]);
    expect(end.events.filter((e) => e.type === 'retry')).toHaveLength(1);
  });

  it('a stop during the backoff ends the retrying', async () => {
    const job = await submit(tc, jobRequest('retry-stop', image, 'echo up\nsleep 300', { retry: { maxAttempts: 3 } }));
    await untilLogged(job, 'up');
    await removeContainer(job);
    await waitFor('the retry', async () => (await getJob(tc, job)).attempt === 2);
    const res = await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });
    expect(res.statusCode).toBe(200);
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Stopped');
    expect(end.failureClass).toBe('stopped');
    // Whether the stop met it in the queue or running, nothing comes after it.
    await new Promise((r) => setTimeout(r, 1500));
    const later = await getJob(tc, job);
    expect(later.status).toBe('Stopped');
    expect(later.attempt).toBe(2);
  });

  it('leaves jobs without a retry policy as they were', async () => {
    const job = await submit(tc, jobRequest('no-retry', image, 'echo up\nsleep 300'));
    expect(job.attempt).toBeUndefined();
    await untilLogged(job, 'up');
    await removeContainer(job);
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.failureClass).toBe('platform');
    expect(end.attempts).toBeUndefined();
    expect((await allLogLines(tc, job)).map((l) => l.text)).not.toContain('attempt 1 of 1');
  });
});

describe('checkpoints', () => {
  it('uploads a checkpoint while the job runs and restores it for the retry, which resumes from it', async () => {
    const job = await submit(
      tc,
      jobRequest('ckpt-resume', image, CHECKPOINT_COUNTER, { checkpointPath: 'obs://jobs/ckpt/resume/', retry: { maxAttempts: 1 } }),
    );
    await untilLogged(job, 'waiting to be killed');
    // Uploaded while it runs, before anything ended it.
    await waitFor(
      'the checkpoint in the store',
      async () => (await readObject(tc.store, 'jobs', 'ckpt/resume/count').catch(() => '')) === '3\n',
    );
    await removeContainer(job);

    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Successful');
    expect(end.attempts!.map((a) => a.status)).toEqual(['Running failed', 'Successful']);
    const latest = await logTexts(job);
    expect(latest).toContain('resumed at 3');
    expect(latest).not.toContain('step 3');
    expect(latest).toContain('step 5');
    expect(await readObject(tc.store, 'jobs', 'out/ckpt-resume/result.txt')).toBe('count 5 from obs://jobs/ckpt/resume/\n');
    expect(await readObject(tc.store, 'jobs', 'ckpt/resume/count')).toBe('5\n');
    const types = end.events.map((e) => e.type);
    expect(types).toContain('checkpoint-restore');
    expect(types).toContain('checkpoint-upload');
    expect(end.events.filter((e) => e.type === 'checkpoint-restore').map((e) => e.message)).toEqual([
      expect.stringMatching(/checkpoints restored from obs:\/\/jobs\/ckpt\/resume\/ to \/home\/work\/checkpoints\/: 0 files/),
      // count (a count.tmp caught between its write and its rename may come along).
      expect.stringMatching(/: [12] files?, [24] bytes/),
    ]);
  });

  it('restores the checkpoints into a new version that keeps the path', async () => {
    await uploadText(tc.store, 'jobs', { 'ckpt/kept/count': '4\n', 'ckpt/kept/model/weights.bin': 'w'.repeat(1000) });
    const job = await submit(tc, jobRequest('ckpt-kept', image, CHECKPOINT_COUNTER, { checkpointPath: 'obs://jobs/ckpt/kept/' }));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Successful');
    const texts = (await allLogLines(tc, job)).map((l) => l.text);
    expect(texts).toContain('resumed at 4');
    expect(texts).toContain('step 5');
    expect(await readObject(tc.store, 'jobs', 'ckpt/kept/count')).toBe('5\n');
    // What was restored and left as it was does not go up again: only the count changed.
    const restore = end.events.find((e) => e.type === 'checkpoint-restore');
    expect(restore?.message).toMatch(/: 2 files, 1002 bytes$/);
    const uploads = end.events.filter((e) => e.type === 'checkpoint-upload').map((e) => e.message);
    expect(uploads.at(-1)).toBe('checkpoints uploaded to obs://jobs/ckpt/kept/ at the end: 1 changed file, 2 bytes');
    expect(uploads.every((m) => / 1 changed file, 2 bytes$/.test(m))).toBe(true);
  });

  it('refuses a Checkpoint Path inside the data path, naming the field', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('ckpt-bad', image, 'true', { checkpointPath: 'obs://jobs/data/ckpt/' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([{ path: 'checkpointPath', message: 'Checkpoint Path must not be the data path or inside it' }]);
  });
});

describe('a retry in its backoff', () => {
  let slow: TestConsole;
  beforeAll(async () => {
    // A backoff long enough to look at: the job waits it out in the queue.
    ({ tc: slow } = await startJobsConsole({ STOP_GRACE_SECONDS: '1', RETRY_BACKOFF_SECONDS: '120' }));
  });
  afterAll(() => closeJobsConsole(slow));

  it('says why it waits: a retry, until the end of its backoff', async () => {
    const job = await submit(slow, jobRequest('retry-wait', image, 'exit 5', { retry: { maxAttempts: 1, on: ['user'] } }));
    try {
      const waiting = await waitFor('the retry back in the queue', async () => {
        const j = await getJob(slow, job);
        return j.attempt === 2 && j.status === 'Queuing' ? j : null;
      });
      const until = waiting.retryAt!;
      expect(Date.parse(until)).toBeGreaterThan(Date.now());
      expect(waiting.waiting?.summary).toBe(`position 1 in pool public; a retry, waiting out its backoff until ${until}`);
      expect(waiting.waiting?.estimatedStart).toBe(until);
      const list = await slow.app.inject({ url: '/api/v1/training-jobs?name=retry-wait' });
      expect(list.json().items[0].waitingSummary).toContain('waiting out its backoff');
    } finally {
      await slow.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });
    }
    expect((await untilStatus(slow, job, ENDED)).status).toBe('Stopped');
  });
});
