import { isTerminal, type LogPage, type TrainingJob } from '@tc/contracts';
import type { Api } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { colorsFor, statusColor, type Io } from './io.js';

export interface JobRef {
  name: string;
  version: string;
}

export function jobPath(ref: JobRef): string {
  return `/training-jobs/${encodeURIComponent(ref.name)}/versions/${encodeURIComponent(ref.version)}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Prints a node's log from the start, page by page with the logs API's cursor; with `follow`
 * it keeps polling until the API says the log is complete (the job has ended and no line is left).
 */
export async function printLog(
  api: Api,
  ref: JobRef,
  node: number,
  follow: boolean,
  io: Io,
  { pollMs = 1000, attempt }: { pollMs?: number; attempt?: number } = {},
): Promise<void> {
  const c = colorsFor(io.stdout, io.env);
  let cursor = '';
  for (;;) {
    const q = new URLSearchParams({ node: String(node), limit: '1000', cursor });
    // Without it, the latest attempt's lines; the cursor carries a follow across a retry.
    if (attempt !== undefined) q.set('attempt', String(attempt));
    const page = await api.json<LogPage>('GET', `${jobPath(ref)}/logs?${q}`);
    for (const l of page.lines) io.stdout.write((l.stream === 'system' ? c.dim(l.text) : l.text) + '\n');
    cursor = page.nextCursor;
    if (page.complete) return;
    if (page.lines.length === 0) {
      if (!follow) return;
      await sleep(pollMs);
    }
  }
}

/** Follows the job's log to its end, then says how it ended: 0 for Successful, else the job's code and reason. */
export async function followToEnd(api: Api, ref: JobRef, node: number, io: Io, attempt?: number): Promise<ExitCode> {
  await printLog(api, ref, node, true, io, { attempt });
  // `complete` came with the job ended, but read the final record for its status and reason.
  let job = await api.json<TrainingJob>('GET', jobPath(ref));
  while (!isTerminal(job.status)) {
    await sleep(500);
    job = await api.json<TrainingJob>('GET', jobPath(ref));
  }
  return reportEnd(job, io);
}

export function reportEnd(job: TrainingJob, io: Io): ExitCode {
  const c = colorsFor(io.stderr, io.env);
  const line = `${job.name}/${job.version} ${statusColor(c, job.status)}`;
  if (job.status === 'Successful') {
    io.stderr.write(line + '\n');
    return EXIT.OK;
  }
  io.stderr.write(`${line}: ${job.reason ?? 'no reason given'}\n`);
  return job.status === 'Stopped' ? EXIT.JOB_STOPPED : EXIT.JOB_FAILED;
}

export function assertNode(node: string): number {
  if (!/^\d+$/.test(node)) throw new CliError(`--node: ${node} must be a node index (0, 1, ...)`, EXIT.USAGE);
  return Number(node);
}

export function assertAttempt(attempt: string): number {
  if (!/^[1-9]\d*$/.test(attempt)) throw new CliError(`--attempt: ${attempt} must be an attempt number (1 for the first run)`, EXIT.USAGE);
  return Number(attempt);
}
