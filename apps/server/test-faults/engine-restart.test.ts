import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../test/support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../test/support/console.js';
import { allLogLines, ENDED, jobRequest, submit, untilStatus } from '../test/support/jobs.js';

/**
 * The Docker engine is stopped under a running job and started again. The job must end
 * "Running failed" with a reason, and nothing of it may stay on the engine afterwards. Needs to
 * stop and start dockerd, so it runs as root (as CI does), where scripts/ensure-system.sh
 * started the engine the same way.
 */
const asRoot = process.getuid?.() === 0;

let tc: TestConsole;
let image: string;

/**
 * The engine the console uses: the one with the default socket and pidfile. Other dockerds may
 * run on this machine (the swarm lab's, each with its own data root), and must be left alone.
 */
function dockerdPid(): number | null {
  try {
    const pids = execFileSync('pidof', ['dockerd']).toString().trim().split(/\s+/).map(Number);
    return pids.find((pid) => !readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--data-root')) ?? null;
  } catch {
    return null;
  }
}

async function engineAnswers(): Promise<boolean> {
  return testDocker()
    .ping()
    .then(
      () => true,
      () => false,
    );
}

async function stopEngine(): Promise<void> {
  const pid = dockerdPid();
  if (!pid) throw new Error('dockerd is not running');
  process.kill(pid, 'SIGTERM');
  await waitFor('dockerd to exit', async () => !existsSync(`/proc/${pid}`), 60_000);
}

async function startEngine(): Promise<void> {
  // A service manager may bring it back by itself; start it only if it does not.
  const back = await waitFor('dockerd to come back', engineAnswers, 5_000).catch(() => false);
  if (back) return;
  const log = openSync('/var/log/dockerd.log', 'a');
  spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] }).unref();
  await waitFor('dockerd to answer', engineAnswers, 90_000);
}

beforeAll(async () => {
  if (!asRoot) return;
  tc = await startTestConsole('embedded');
  image = await buildTestImage('user1101');
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': '1,2' });
});

afterAll(async () => {
  if (!asRoot) return;
  if (!(await engineAnswers())) await startEngine();
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

describe.skipIf(!asRoot)('the Docker engine stopped and started mid-run', () => {
  it('fails the job with a reason and leaves no container behind', async () => {
    const job = await submit(tc, jobRequest('engine-gone', image, 'echo up; sleep 600'));
    await waitFor('the job to run', async () => (await allLogLines(tc, job)).some((l) => l.text === 'up'));

    await stopEngine();
    const end = await untilStatus(tc, job, ENDED, 120_000);
    await startEngine();

    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/failed: /);
    // Whichever step met the engine's going: the engine's socket, the container's end, or the
    // node agent (a container on that engine) cut off mid-command.
    expect(end.reason).toMatch(/docker\.sock|ECONNREFUSED|ENOENT|socket hang up|engine|code 143|code 137|node agent/i);
    await waitFor(
      'the job container to be removed',
      async () => (await testDocker().listContainers({ all: true, filters: { label: [`tc.job-id=${end.id}`] } })).length === 0,
      120_000,
    );
    // The console keeps working on the restarted engine.
    const after = await submit(tc, jobRequest('engine-back', image, 'echo again'));
    const again = await untilStatus(tc, after, ENDED);
    expect(again.status, again.reason ?? '').toBe('Successful');
  });
});
