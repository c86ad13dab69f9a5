import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUsage, TrainingJob } from '@tc/contracts';
import type { TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, submit, untilStatus } from '../support/jobs.js';

const GiB = 1024 ** 3;

describe('resource usage of a job (real engine)', () => {
  let tc: TestConsole;
  let job: TrainingJob;
  let usage: JobUsage;
  const url = () => `/api/v1/training-jobs/${job.name}/versions/${job.version}/usage`;

  beforeAll(async () => {
    const started = await startJobsConsole({ USAGE_SAMPLE_SECONDS: '1' });
    tc = started.tc;
    // Six seconds of one busy CPU, then a clean exit.
    job = await submit(tc, jobRequest('usage-burn', started.image, "timeout 6 sh -c 'while :; do :; done'; echo done"));
    const ended = await untilStatus(tc, job, ENDED, 90_000);
    expect(ended.status, JSON.stringify(ended.events)).toBe('Successful');
    const res = await tc.app.inject({ url: url() });
    expect(res.statusCode, res.body).toBe(200);
    usage = res.json();
  }, 120_000);

  afterAll(async () => closeJobsConsole(tc));

  it("samples node 0 while it runs: a busy CPU, the flavor's memory limit, counters that only grow", () => {
    expect(usage.nodes.map((n) => n.index)).toEqual([0]);
    expect(usage.unavailable).toBeNull();
    const samples = usage.nodes[0]!.samples;
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...samples.map((s) => s.cpuPercent))).toBeGreaterThan(20);
    // The default flavor: 1 vCPU | 2 GiB.
    for (const s of samples) {
      expect(s.memoryLimitBytes).toBe(2 * GiB);
      expect(s.memoryBytes).toBeGreaterThan(0);
      expect(s.memoryBytes).toBeLessThanOrEqual(s.memoryLimitBytes);
      expect(s.gpuPercent).toBeUndefined();
    }
    const at = samples.map((s) => Date.parse(s.at));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]!.blkWriteBytes).toBeGreaterThanOrEqual(samples[i - 1]!.blkWriteBytes);
      expect(samples[i]!.netRxBytes).toBeGreaterThanOrEqual(samples[i - 1]!.netRxBytes);
    }
  });

  it('keeps the samples after the job ended, and samples nothing more', async () => {
    const again = (await tc.app.inject({ url: url() })).json() as JobUsage;
    expect(again.nodes[0]!.samples.length).toBe(usage.nodes[0]!.samples.length);
  });

  it("hides another user's job usage as if the job did not exist", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'usage-stranger');
    const res = await tc.app.inject({ url: url(), headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(404);
    expect((await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/V009/usage` })).statusCode).toBe(404);
    expect((await tc.anonymous({ url: url() })).statusCode).toBe(401);
  });

  it('is described in the OpenAPI document', () => {
    const doc = tc.app.swagger() as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
    const op = doc.paths['/api/v1/training-jobs/{name}/versions/{version}/usage']?.get;
    expect(op).toBeDefined();
    expect(JSON.stringify(op!.responses['200'])).toMatch(/cpuPercent.*memoryLimitBytes/s);
  });
});
