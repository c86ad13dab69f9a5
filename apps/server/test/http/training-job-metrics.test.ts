import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobMetrics, TrainingJob } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';
import { closeJobsConsole, ENDED, getJob, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
let job: TrainingJob;

// Five epochs on the log (loss, acc and a custom marker), and acc again in metrics.jsonl with other values.
const BOOT = [
  'i=1',
  'while [ $i -le 5 ]; do',
  '  echo "epoch $i/5 loss=0.$((9 - i)) acc=0.$((5 + i)) marker[$((i * 10))]"',
  `  echo '{"step":'$i',"acc":0.9'$i'}' >> /home/work/outputs/metrics.jsonl`,
  '  i=$((i + 1))',
  'done',
].join('\n');

const base = '/api/v1/training-jobs/metrics-api/versions/V001';

function series(m: JobMetrics, name: string) {
  return m.series.filter((s) => s.name === name);
}

beforeAll(async () => {
  const started = await startJobsConsole();
  tc = started.tc;
  image = started.image;
  job = await submit(tc, jobRequest('metrics-api', image, BOOT, { metrics: [{ name: 'marker', regex: 'marker\\[(\\d+)\\]' }] }));
  await untilStatus(tc, job, ENDED);
  expect((await getJob(tc, job)).status).toBe('Successful');
  // The metrics.jsonl is read once the job has ended: wait until its acc values are there.
  await waitFor('acc from metrics.jsonl', async () => {
    const m = (await tc.app.inject({ url: `${base}/metrics` })).json<JobMetrics>();
    return series(m, 'acc')[0]?.points[0]?.value === 0.91;
  });
}, 120_000);
afterAll(async () => {
  await closeJobsConsole(tc);
});

describe('job metrics', () => {
  it('reads name=value pairs with their epoch as the step, and defined metrics, per node', async () => {
    const res = await tc.app.inject({ url: `${base}/metrics` });
    expect(res.statusCode, res.body).toBe(200);
    const m = res.json<JobMetrics>();
    const [loss] = series(m, 'loss');
    expect(loss?.node).toBe(0);
    expect(loss?.points.map((p) => [p.step, p.value])).toEqual([
      [1, 0.8],
      [2, 0.7],
      [3, 0.6],
      [4, 0.5],
      [5, 0.4],
    ]);
    expect(loss?.points.every((p) => !Number.isNaN(Date.parse(p.at)))).toBe(true);
    expect(series(m, 'marker')[0]?.points.map((p) => p.value)).toEqual([10, 20, 30, 40, 50]);
  });

  it('takes metrics.jsonl over the log for the names it holds', async () => {
    const m = (await tc.app.inject({ url: `${base}/metrics` })).json<JobMetrics>();
    const acc = series(m, 'acc');
    expect(acc).toHaveLength(1);
    expect(acc[0]!.points.map((p) => [p.step, p.value])).toEqual([
      [1, 0.91],
      [2, 0.92],
      [3, 0.93],
      [4, 0.94],
      [5, 0.95],
    ]);
  });

  it('exports CSV', async () => {
    const res = await tc.app.inject({ url: `${base}/metrics.csv` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="metrics-api-V001-metrics.csv"');
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('name,node,step,at,value');
    expect(lines.filter((l) => l.startsWith('loss,0,'))).toHaveLength(5);
    expect(lines.find((l) => l.startsWith('acc,0,1,'))).toMatch(/,0\.91$/);
    expect(lines).toHaveLength(1 + 15);
  });

  it('reads the stored log again when the definitions change (no rerun)', async () => {
    const res = await tc.app.inject({
      method: 'PUT',
      url: `${base}/metric-definitions`,
      payload: { metrics: [{ name: 'tenfold', regex: 'marker\\[(\\d+)\\]' }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const m = res.json<JobMetrics>();
    expect(series(m, 'tenfold')[0]?.points.map((p) => [p.step, p.value])).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
      [4, 40],
      [5, 50],
    ]);
    // The old definition is gone; the file's names still win over the log's.
    expect(series(m, 'marker')).toEqual([]);
    expect(series(m, 'acc')[0]?.points.map((p) => p.value)).toEqual([0.91, 0.92, 0.93, 0.94, 0.95]);
    expect(series(m, 'loss')[0]?.points).toHaveLength(5);
    expect((await getJob(tc, job)).spec.metrics).toEqual([{ name: 'tenfold', regex: 'marker\\[(\\d+)\\]' }]);
  });

  it("hides another user's job metrics as if the job did not exist", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'metrics-stranger');
    const headers = { authorization: `Bearer ${token}` };
    expect((await tc.app.inject({ url: `${base}/metrics`, headers })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: `${base}/metrics.csv`, headers })).statusCode).toBe(404);
    const put = await tc.app.inject({ method: 'PUT', url: `${base}/metric-definitions`, headers, payload: { metrics: [] } });
    expect(put.statusCode).toBe(404);
    expect((await tc.anonymous({ url: `${base}/metrics` })).statusCode).toBe(401);
  });

  it('refuses a catastrophic regex at submit and on edit with a 400 naming the field', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('metrics-redos', image, 'true', {
        metrics: [
          { name: 'ok', regex: 'ok=(\\d+)' },
          { name: 'evil', regex: '(a+)+$' },
        ],
      }),
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<{ message: string; fields: { path: string; message: string }[] }>();
    expect(body.fields.map((f) => f.path)).toEqual(['metrics.1.regex']);
    expect(body.message).toMatch(/metrics\.1\.regex: .*catastrophic backtracking/);
    const put = await tc.app.inject({
      method: 'PUT',
      url: `${base}/metric-definitions`,
      payload: { metrics: [{ name: 'evil', regex: '(x*)*y' }] },
    });
    expect(put.statusCode, put.body).toBe(400);
    expect(put.json<{ fields: { path: string }[] }>().fields.map((f) => f.path)).toEqual(['metrics.0.regex']);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = tc.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/metrics']?.get).toBeTruthy();
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/metrics.csv']?.get).toBeTruthy();
    expect(doc.paths['/api/v1/training-jobs/{name}/versions/{version}/metric-definitions']?.put).toBeTruthy();
  });
});
