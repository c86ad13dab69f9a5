import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '@tc/contracts';
import { waitFor, type TestConsole } from '../../../apps/server/test/support/console.js';
import {
  closeJobsConsole,
  ENDED,
  getJob,
  jobRequest,
  startJobsConsole,
  submit,
  untilStatus,
} from '../../../apps/server/test/support/jobs.js';
import { createUser } from '../../../apps/server/test/support/accounts.js';
import { main } from '../src/main.js';
import type { Io } from '../src/io.js';

let tc: TestConsole;
let image: string;
let url: string;
let job: TrainingJob;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
  await tc.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(tc.app.server.address() as AddressInfo).port}`;
  const created = await submit(tc, jobRequest('cli-exec', image, 'echo up; sleep 300'));
  job = await waitFor('cli-exec to run', async () => {
    const j = await getJob(tc, created);
    return j.status === 'Running' && j.nodes[0]?.state === 'running' ? j : null;
  });
}, 120_000);

afterAll(async () => {
  if (job) {
    await tc.app.inject({ method: 'POST', url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/stop` });
    await untilStatus(tc, job, ENDED);
  }
  await closeJobsConsole(tc);
});

/** The CLI in this process with piped (not terminal) stdin. */
async function trainctl(args: string[], token: string, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
    env: {
      ...process.env,
      XDG_CONFIG_HOME: mkdtempSync(path.join(os.tmpdir(), 'trainctl-cfg-')),
      NO_COLOR: '1',
      TRAINCTL_URL: url,
      TRAINCTL_TOKEN: token,
    },
    cwd: os.tmpdir(),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('trainctl exec', () => {
  it("runs a command in the node as UID 1101 with the node's environment and exits with its code", async () => {
    const r = await trainctl(['exec', 'cli-exec', '--', 'sh', '-c', 'echo "u=$(id -u) rank=$RANK"; exit 7'], tc.adminToken);
    expect(r.stdout).toContain('u=1101 rank=0');
    expect(r.code).toBe(7);
  });

  it('runs a shell on piped input and ends it with the input', async () => {
    const r = await trainctl(['exec', 'cli-exec/V001', '--node', '0'], tc.adminToken, 'id -u\nexit 0\n');
    expect(r.stdout).toMatch(/\r\n1101\r\n/);
    expect(r.code).toBe(0);
  });

  it("is a 404 (exit 5) for another user's job", async () => {
    const token = await createUser(tc.app, tc.adminToken, 'mallory');
    const r = await trainctl(['exec', 'cli-exec/V001', '--', 'id'], token);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/404 training job cli-exec V001 does not exist/);
  });
});
