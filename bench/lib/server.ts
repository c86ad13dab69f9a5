import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobStatus, LogPage, TrainingJob } from '@tc/contracts';
import type { EmbeddedS3 } from '../../apps/server/src/storage/embedded/embedded-s3.js';
import { sleep } from './stats.js';
import { apiOverHttp, apiTokenOverHttp } from '../../apps/server/test/support/accounts.js';
import { storeEnv } from '../../apps/server/test/support/server-process.js';

const BENCH_ADMIN_PASSWORD = 'bench-admin-password';

/** The server as its own process, what `npm start` runs (as test/support/server-process.ts does for the tests). */
const MAIN = fileURLToPath(new URL('../../apps/server/src/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface BenchServer {
  base: string;
  /** The admin's API token (the console starts with ADMIN_PASSWORD). */
  token: string;
  pid: number;
  proc: ChildProcess;
  /** Its DATA_DIR; the node agent's work folders are under <dataDir>/node. */
  dataDir: string;
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export const ENDED: readonly JobStatus[] = ['Successful', 'Running failed', 'Stopped'];

let nextPort = 24000 + Math.floor(Math.random() * 4000);

export async function startServer(o: { dataDir: string; s3: EmbeddedS3; env?: NodeJS.ProcessEnv }): Promise<BenchServer> {
  const port = nextPort++;
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, ['--import', TSX, MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: o.dataDir,
      ...storeEnv(o.s3),
      STOP_GRACE_SECONDS: '2',
      LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      // The SDK's notice that its 2027 releases need Node 22, once per process, is noise here.
      NODE_NO_WARNINGS: '1',
      ...o.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`);
    const ok = await fetch(`${base}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('the server did not answer within 60 s');
    await sleep(100);
  }
  const token = await apiTokenOverHttp(base, 'admin', BENCH_ADMIN_PASSWORD);
  const api = <T>(method: string, url: string, body?: unknown): Promise<T> => apiOverHttp<T>(base, token, method, url, body);
  return {
    base,
    token,
    pid: proc.pid!,
    proc,
    dataDir: o.dataDir,
    api,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** A field of /proc/<pid>/status in bytes (VmHWM, VmRSS). */
export function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

export function jobRequest(name: string, image: string, bootCommand: string, data: string, output: string): Record<string, unknown> {
  return {
    name,
    algorithm: { source: 'custom', imagePath: image, codeDir: 'obs://bench/code/', bootCommand },
    data: { source: 'path', path: data },
    trainOutput: output,
    logPath: 'obs://bench/logs/',
  };
}

export async function waitEnded(s: BenchServer, job: Pick<TrainingJob, 'name' | 'version'>, timeoutMs = 600_000): Promise<TrainingJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = await s.api<TrainingJob>('GET', `/api/v1/training-jobs/${job.name}/versions/${job.version}`);
    if (ENDED.includes(j.status)) return j;
    if (Date.now() > deadline) throw new Error(`${job.name} did not end within ${timeoutMs / 1000} s (${j.status})`);
    await sleep(100);
  }
}

/** The job must have succeeded; otherwise the measurement means nothing. */
export function expectSuccess(j: TrainingJob): TrainingJob {
  if (j.status !== 'Successful') throw new Error(`${j.name} ${j.version} ended ${j.status}: ${j.reason ?? ''}`);
  return j;
}

/** Time of the first event of a type (ms since epoch). */
export function eventAt(j: TrainingJob, type: string, last = false): number {
  const evs = j.events.filter((e) => e.type === type);
  const e = last ? evs.at(-1) : evs[0];
  if (!e) throw new Error(`${j.name}: no ${type} event (${j.events.map((x) => x.type).join(', ')})`);
  return Date.parse(e.at);
}

/**
 * When the nodes started staging (`download`, recorded once the listings are signed) and when
 * the last group finished on them (the later of `code-download` and `data-download`; the agent
 * fetches both groups from one pool at once).
 */
export function stagingWindow(j: TrainingJob): { from: number; to: number; ms: number } {
  const from = eventAt(j, 'download');
  const to = Math.max(eventAt(j, 'code-download', true), eventAt(j, 'data-download', true));
  return { from, to, ms: to - from };
}

/** Polls the job every `everyMs` until its status is one of `want` (or it ended); returns it. */
export async function waitStatus(
  s: BenchServer,
  job: Pick<TrainingJob, 'name' | 'version'>,
  want: readonly JobStatus[],
  everyMs = 50,
  timeoutMs = 600_000,
): Promise<TrainingJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const j = await s.api<TrainingJob>('GET', `/api/v1/training-jobs/${job.name}/versions/${job.version}`);
    if (want.includes(j.status) || ENDED.includes(j.status)) return j;
    if (Date.now() > deadline) throw new Error(`${job.name} did not reach ${want.join('/')} within ${timeoutMs / 1000} s (${j.status})`);
    await sleep(everyMs);
  }
}

export function eventMessage(j: TrainingJob, type: string): string {
  return j.events.find((e) => e.type === type)?.message ?? '';
}

export async function logPage(s: BenchServer, j: Pick<TrainingJob, 'name' | 'version'>, cursor: string, limit = 5000): Promise<LogPage> {
  return s.api<LogPage>('GET', `/api/v1/training-jobs/${j.name}/versions/${j.version}/logs?limit=${limit}&cursor=${cursor}`);
}

/** Deletes an ended job so the console's database stays small between benchmarks. */
export async function deleteJob(s: BenchServer, j: Pick<TrainingJob, 'name' | 'version'>): Promise<void> {
  await fetch(`${s.base}/api/v1/training-jobs/${j.name}/versions/${j.version}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${s.token}` },
  });
}
