import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocker } from '../support/images.js';
import { waitFor, type TestConsole } from '../support/console.js';
import {
  ENDED,
  getJob,
  jobRequest,
  submit,
  untilStatus,
  writePoolsConfig,
  startJobsConsole,
  closeJobsConsole,
  consoleLabel,
} from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ CONFIG_FILE: writePoolsConfig(), STOP_GRACE_SECONDS: '2' }));
});

afterAll(() => closeJobsConsole(tc));

const small = { resources: { pool: 'small', type: 'CPU', flavor: 'small.1', nodes: 1 } };

async function pools(): Promise<{ id: string; capacity: { vcpus: number }; free: { vcpus: number }; queued: number; types: string[] }[]> {
  return (await tc.app.inject({ url: '/api/v1/resource-pools' })).json().items;
}

describe('resource pools and flavors from the configuration file', () => {
  it('shows both pools with flavors, types and capacity; the public one as the engine reports it', async () => {
    const info = await testDocker().info();
    const list = await pools();
    expect(list.map((p) => p.id)).toEqual(['public', 'small']);
    expect(list[0]!.capacity.vcpus).toBe(info.NCPU);
    expect(list[0]!.types).toEqual(['CPU', 'GPU']);
    expect(list[1]).toMatchObject({ capacity: { vcpus: 1 }, free: { vcpus: 1 }, queued: 0, types: ['CPU'] });
  });

  it('refuses a GPU flavor on a pool without GPUs, saying so', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('gpu-job', image, 'true', { resources: { pool: 'public', type: 'GPU', flavor: 'gpu.1', nodes: 1 } }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([{ path: 'resources.flavor', message: expect.stringMatching(/needs 1 GPU.*has no GPUs/) }]);
  });

  it('turns the flavor into container limits', async () => {
    const job = await submit(tc, jobRequest('limits', image, 'sleep 30', small));
    await untilStatus(tc, job, ['Running']);
    const [c] = await testDocker().listContainers({ filters: { label: [`tc.job-id=${job.id}`, consoleLabel(tc.dataDir)] } });
    const inspect = await testDocker().getContainer(c!.Id).inspect();
    expect(inspect.HostConfig.NanoCpus).toBe(1e9);
    expect(inspect.HostConfig.Memory).toBe(512 * 1024 ** 2);
    expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(inspect.HostConfig.NetworkMode).toBe('none');
    await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/limits/versions/V001/stop` });
    await untilStatus(tc, job, ENDED);
  });
});

describe('queuing', () => {
  it('keeps jobs Queuing with their position while the pool is full, and starts them in submit order', async () => {
    const a = await submit(tc, jobRequest('queue-a', image, 'sleep 300', small));
    await untilStatus(tc, a, ['Running']);
    const b = await submit(tc, jobRequest('queue-b', image, 'echo b ran', small));
    const c = await submit(tc, jobRequest('queue-c', image, 'echo c ran', small));
    expect(b).toMatchObject({ status: 'Queuing', queuePosition: 1 });
    expect(c).toMatchObject({ status: 'Queuing', queuePosition: 2 });
    expect(b.events.find((e) => e.type === 'queued')!.message).toMatch(/position 1/);
    const smallPool = (await pools()).find((p) => p.id === 'small')!;
    expect(smallPool).toMatchObject({ free: { vcpus: 0 }, queued: 2 });

    // Why C waits, in the job's answer and, in words, in the list.
    const why = (await getJob(tc, c)).waiting!;
    expect(why).toMatchObject({
      position: 2,
      pool: 'small',
      short: [
        { resource: 'vCPUs', need: 1, free: 0 },
        { resource: 'memory (GiB)', need: 0.5, free: 0 },
      ],
      estimatedStart: null,
    });
    expect(why.ahead.map((j) => [j.name, j.state, j.expectedEnd])).toEqual([
      ['queue-a', 'running', null],
      ['queue-b', 'queued', null],
    ]);
    expect((await getJob(tc, a)).waiting).toBeNull();

    const list = (await tc.app.inject({ url: '/api/v1/training-jobs?name=queue-' })).json();
    expect(list.items.map((j: { name: string; queuePosition: number | null }) => [j.name, j.queuePosition])).toEqual([
      ['queue-c', 2],
      ['queue-b', 1],
      ['queue-a', null],
    ]);
    expect(list.items[0].waitingSummary).toMatch(
      /^position 2 in pool small; needs 1 vCPUs \(0 free\), 0.5 memory \(GiB\) \(0 free\); 1 running job holds the pool; 1 queued job starts first/,
    );
    expect(list.items[2].waitingSummary).toBeNull();

    // Capacity frees when A ends: B starts, C moves up; then C after B.
    expect((await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs/queue-a/versions/V001/stop' })).statusCode).toBe(200);
    const bEnd = await untilStatus(tc, b, ENDED);
    const cEnd = await untilStatus(tc, c, ENDED);
    expect(bEnd.status).toBe('Successful');
    expect(cEnd.status).toBe('Successful');
    expect(bEnd.startedAt! <= cEnd.startedAt!).toBe(true);
    expect(bEnd.endedAt! <= cEnd.startedAt!).toBe(true);
    expect((await getJob(tc, a)).status).toBe('Stopped');
  });

  it('refuses at submit a job that could never fit the pool', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('too-big', image, 'true', { resources: { pool: 'small', type: 'CPU', flavor: 'small.1', nodes: 2 } }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields[0]).toMatchObject({ path: 'resources.nodes', message: expect.stringMatching(/could never start/) });
  });

  it('stops a queued job at once', async () => {
    const a = await submit(tc, jobRequest('hold', image, 'sleep 300', small));
    await untilStatus(tc, a, ['Running']);
    const q = await submit(tc, jobRequest('waiting', image, 'true', small));
    expect(q.status).toBe('Queuing');
    const stopped = (await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs/waiting/versions/V001/stop' })).json();
    expect(stopped).toMatchObject({ status: 'Stopped', queuePosition: null });
    await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs/hold/versions/V001/stop' });
    await untilStatus(tc, a, ENDED);
    await waitFor('the pool to be free', async () => (await pools()).find((p) => p.id === 'small')!.free.vcpus === 1);
  });
});
