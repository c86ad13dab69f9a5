import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readObject, startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { allLogLines, ENDED, getJob, jobRequest, submit, untilStatus, startJobsConsole, closeJobsConsole } from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ STOP_GRACE_SECONDS: '2' }));
});

afterAll(() => closeJobsConsole(tc));

const stop = (name: string) => tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${name}/versions/V001/stop` });

/** Waits until the job's log shows the line, so a stop lands while the boot command runs. */
async function untilLogged(name: string, text: string): Promise<void> {
  await waitFor(`${name} to log "${text}"`, async () => (await allLogLines(tc, { name, version: 'V001' })).some((l) => l.text === text));
}

describe('stop', () => {
  it('sends SIGTERM, goes Stopping → Stopped, and still uploads outputs and logs', async () => {
    const cmd = [
      "trap 'echo got TERM; echo partial > /home/work/outputs/partial.txt; exit 0' TERM",
      'echo training',
      'while true; do sleep 0.2; done',
    ].join('\n');
    const job = await submit(tc, jobRequest('stop-me', image, cmd));
    await untilLogged('stop-me', 'training');
    const res = await stop('stop-me');
    expect(res.statusCode).toBe(200);
    expect(['Stopping', 'Stopped']).toContain(res.json().status);
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Stopped');
    expect(end.reason).toBeNull();
    expect(end.failureClass).toBe('stopped');
    expect(end.events.map((e) => e.type)).toEqual(expect.arrayContaining(['stop', 'node-exited', 'output-upload', 'log-upload']));
    expect((await allLogLines(tc, job)).map((l) => l.text)).toContain('got TERM');
    expect(await readObject(tc.store, 'jobs', 'out/stop-me/partial.txt')).toBe('partial\n');
    expect(await readObject(tc.store, 'jobs', 'logs/stop-me-V001-worker-0.log')).toContain('got TERM');
  });

  it('kills a boot command that ignores SIGTERM after the grace period', async () => {
    const job = await submit(tc, jobRequest('stubborn', image, "trap '' TERM\necho ignoring\nwhile true; do sleep 0.2; done"));
    await untilLogged('stubborn', 'ignoring');
    expect((await stop('stubborn')).statusCode).toBe(200);
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Stopped');
    expect(end.nodes[0]!.exitCode).toBe(137);
  });

  it('answers 409 for a job that has ended, and deletes only ended jobs', async () => {
    const job = await submit(tc, jobRequest('short', image, 'echo done'));
    await untilStatus(tc, job, ENDED);
    const again = await stop('short');
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/already ended/);

    const live = await submit(tc, jobRequest('live', image, 'echo up; sleep 300'));
    await untilLogged('live', 'up');
    const refused = await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-jobs/live/versions/V001' });
    expect(refused.statusCode).toBe(409);
    await stop('live');
    await untilStatus(tc, live, ENDED);

    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-jobs/short/versions/V001' })).statusCode).toBe(204);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs/short/versions/V001' })).statusCode).toBe(404);
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/training-jobs/short/versions/V001' })).statusCode).toBe(404);
  });
});

describe('max runtime', () => {
  it('stops a job that runs past its max runtime and fails it with that reason', { timeout: 150_000 }, async () => {
    const job = await submit(tc, jobRequest('too-long', image, 'echo "$(date) start"; sleep 600', { maxRuntimeMinutes: 1 }));
    const end = await untilStatus(tc, job, ENDED, 120_000);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^max runtime exceeded/);
    expect(end.failureClass).toBe('max-runtime');
    expect(Date.parse(end.endedAt!) - Date.parse(end.startedAt!)).toBeGreaterThanOrEqual(60_000);
    expect(end.events.map((e) => e.type)).toEqual(expect.arrayContaining(['max-runtime', 'output-upload', 'log-upload']));
    expect((await getJob(tc, job)).nodes[0]!.state).toBe('exited');
  });
});

describe('object-storage checks at submit', () => {
  it('refuses a missing Code Directory, data path or bucket, naming each field', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('missing', image, 'true', {
        algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://jobs/nope/', bootCommand: 'true' },
        data: { source: 'path', path: 'obs://jobs/nodata/' },
        logPath: 'obs://no-such-bucket/logs/',
      }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual(
      expect.arrayContaining([
        { path: 'algorithm.codeDir', message: expect.stringMatching(/does not exist/) },
        { path: 'data.path', message: expect.stringMatching(/does not exist/) },
        { path: 'logPath', message: 'bucket no-such-bucket does not exist' },
      ]),
    );
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?name=missing' })).json().total).toBe(0);
  });

  it('accepts a non-empty Training Output Path with a warning event', async () => {
    await uploadText(tc.store, 'jobs', { 'out/warned/old-model.bin': 'old' });
    const job = await submit(tc, jobRequest('warned', image, 'true'));
    expect(job.events.find((e) => e.type === 'warning')!.message).toMatch(/already holds files/);
    await untilStatus(tc, job, ENDED);
  });
});

describe('a bucket in another region', () => {
  it('is refused, naming both regions', async () => {
    const other = await startTestConsole('embedded', { S3_REGION: 'eu-west-1' });
    try {
      await uploadText(other.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': 'x' });
      const res = await other.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: jobRequest('regional', image, 'true') });
      expect(res.statusCode).toBe(400);
      expect(res.json().fields).toContainEqual({
        path: 'algorithm.codeDir',
        message: 'bucket jobs is in region us-east-1, but the console works in region eu-west-1',
      });
    } finally {
      await other.close();
    }
  });
});
