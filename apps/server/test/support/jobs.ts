import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { JobStatus, TrainingJob } from '@tc/contracts';
import { startTestConsole, uploadText, waitFor, type TestConsole } from './console.js';
import { buildTestImage, removeTestContainers, removeTestImages } from './images.js';

/** A create request over the given image and bucket, with the code and data the bucket holds. */
export function jobRequest(name: string, image: string, bootCommand: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://jobs/code/', bootCommand },
    data: { source: 'path', path: 'obs://jobs/data/' },
    trainOutput: `obs://jobs/out/${name}/`,
    logPath: 'obs://jobs/logs/',
    ...over,
  };
}

export async function submit(tc: TestConsole, body: Record<string, unknown>): Promise<TrainingJob> {
  const res = await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export async function getJob(tc: TestConsole, job: Pick<TrainingJob, 'name' | 'version'>): Promise<TrainingJob> {
  return (await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}` })).json();
}

export async function untilStatus(
  tc: TestConsole,
  job: Pick<TrainingJob, 'name' | 'version'>,
  statuses: readonly JobStatus[],
  timeoutMs = 60_000,
): Promise<TrainingJob> {
  let last: TrainingJob | undefined;
  try {
    return await waitFor(
      `${job.name} ${job.version} to be ${statuses.join(' or ')}`,
      async () => {
        last = await getJob(tc, job);
        return statuses.includes(last.status) ? last : null;
      },
      timeoutMs,
    );
  } catch (err) {
    // Say where it stands, so a job that never ends shows which step it hangs in.
    const event = last?.events.at(-1);
    const where = last ? `; it is ${last.status}${event ? `, last event ${event.type}: ${event.message}` : ''}` : '';
    throw new Error(`${(err as Error).message}${where}`, { cause: err });
  }
}

export const ENDED: readonly JobStatus[] = ['Successful', 'Running failed', 'Stopped'];

/** Every stored line of one node, following the cursor page by page. */
export async function allLogLines(
  tc: TestConsole,
  job: Pick<TrainingJob, 'name' | 'version'>,
  node = 0,
): Promise<{ seq: number; stream: string; text: string }[]> {
  const out: { seq: number; stream: string; text: string }[] = [];
  let cursor = '';
  for (;;) {
    const res = await tc.app.inject({
      url: `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs?node=${node}&limit=1000&cursor=${cursor}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { lines: { seq: number; stream: string; text: string }[]; nextCursor: string };
    out.push(...page.lines);
    if (page.lines.length === 0) return out;
    cursor = page.nextCursor;
  }
}

/**
 * A CONFIG_FILE with the public pool (default flavors plus a tiny one and a GPU one) and a
 * dedicated pool of 1 vCPU / 1 GiB, for the scheduling and distributed tests.
 */
export function writePoolsConfig(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-pools-'));
  const file = path.join(dir, 'console.json');
  writeFileSync(
    file,
    JSON.stringify({
      pools: [
        {
          id: 'public',
          name: 'Public resource pool (this host)',
          flavors: [
            { id: 'cpu.1u2g', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0 },
            { id: 'cpu.tiny', type: 'CPU', vcpus: 0.25, memoryGiB: 0.25, gpus: 0 },
            { id: 'gpu.1', type: 'GPU', vcpus: 1, memoryGiB: 2, gpus: 1 },
          ],
        },
        {
          id: 'small',
          name: 'Dedicated: small',
          capacity: { vcpus: 1, memoryGiB: 1, gpus: 0 },
          flavors: [{ id: 'small.1', type: 'CPU', vcpus: 1, memoryGiB: 0.5, gpus: 0 }],
        },
      ],
    }),
  );
  return file;
}

/**
 * The console most job tests run against: the embedded store, a UID 1101 test image, and the
 * `jobs` bucket with the code and data that jobRequest points at.
 */
export async function startJobsConsole(env: Record<string, string> = {}): Promise<{ tc: TestConsole; image: string }> {
  const tc = await startTestConsole('embedded', env);
  const image = await buildTestImage('user1101');
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'echo hi', 'data/a.csv': 'x,y\n1,2\n' });
  return { tc, image };
}

/** Closes the console once its jobs are done, and removes this file's test containers and images. */
export async function closeJobsConsole(tc: TestConsole | undefined): Promise<void> {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
}

/**
 * The label that marks one test console's containers and networks. Every test console numbers
 * its jobs from 1 and test files run side by side on one engine, so `tc.job-id` alone may match
 * another file's job.
 */
export function consoleLabel(dataDir: string): string {
  return `tc.console=${readFileSync(path.join(dataDir, 'console-id'), 'utf8').trim()}`;
}

/** Counts to 5, one step per checkpoint; a first run (nothing to resume from) stops at 3 and hangs until killed. */
export const CHECKPOINT_COUNTER = [
  'f="$MA_CHECKPOINT_DIR/count"',
  'n=0; [ -e "$f" ] && n=$(cat "$f")',
  'start=$n',
  'echo "resumed at $n"',
  'while [ "$n" -lt 5 ]; do',
  '  n=$((n + 1)); echo "$n" > "$f.tmp" && mv "$f.tmp" "$f"; echo "step $n"',
  '  if [ "$start" = 0 ] && [ "$n" = 3 ]; then echo "waiting to be killed"; while true; do sleep 0.2; done; fi',
  'done',
  'echo "count $n from $CHECKPOINT_URL" > /home/work/outputs/result.txt',
].join('\n');
