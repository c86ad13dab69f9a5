import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LogLine, TrainingJob } from '@tc/contracts';
import type { EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { waitFor } from './console.js';
import { apiOverHttp, apiTokenOverHttp, TEST_ADMIN } from './accounts.js';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The environment that points a console at a store outside it, as a production store would be. */
export function storeEnv(s3: EmbeddedS3): Record<string, string> {
  return {
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: s3.region,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

/**
 * The console as its own process (what `npm start` runs), for tests that kill it with SIGKILL
 * and start it again over the same data folder. The admin's token is made once: it outlives
 * the restarts, as a user's would.
 */
export class ServerProcess {
  readonly port = 20000 + Math.floor(Math.random() * 9000);
  readonly base = `http://127.0.0.1:${this.port}`;
  private proc: ChildProcess | null = null;
  private adminToken: string | undefined;

  /** `env`: DATA_DIR, the store and whatever else the test sets, over this process's own. */
  constructor(private readonly env: Record<string, string>) {}

  get running(): boolean {
    return this.proc !== null;
  }

  get token(): string {
    if (!this.adminToken) throw new Error('the server has not been started');
    return this.adminToken;
  }

  async start(readyTimeoutMs?: number): Promise<void> {
    const proc = spawn(process.execPath, ['--import', TSX, MAIN], {
      env: {
        ...process.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ADMIN_PASSWORD: TEST_ADMIN.password,
        ...this.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.proc = proc;
    await waitFor(
      'the server to answer',
      async () => {
        if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}`);
        return fetch(`${this.base}/api/health`).then(
          (r) => r.ok,
          () => false,
        );
      },
      readyTimeoutMs,
    );
    this.adminToken ??= await apiTokenOverHttp(this.base, TEST_ADMIN.username, TEST_ADMIN.password);
  }

  /** SIGKILL: nothing of the console's own shutdown runs. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await gone;
    this.proc = null;
  }

  api<T>(method: string, url: string, body?: unknown): Promise<T> {
    return apiOverHttp<T>(this.base, this.token, method, url, body);
  }

  getJob(job: Pick<TrainingJob, 'name' | 'version'>): Promise<TrainingJob> {
    return this.api<TrainingJob>('GET', `/api/v1/training-jobs/${job.name}/versions/${job.version}`);
  }

  /** Every line of one node's log (the latest attempt's), system lines included, page by page. */
  async logLines(job: Pick<TrainingJob, 'name' | 'version'>, node = 0): Promise<LogLine[]> {
    const out: LogLine[] = [];
    let cursor = '';
    for (;;) {
      const page = await this.api<{ lines: LogLine[]; nextCursor: string }>(
        'GET',
        `/api/v1/training-jobs/${job.name}/versions/${job.version}/logs?node=${node}&limit=1000&cursor=${cursor}`,
      );
      if (!page.lines.length) return out;
      out.push(...page.lines);
      cursor = page.nextCursor;
    }
  }

  untilStatus(job: Pick<TrainingJob, 'name' | 'version'>, statuses: readonly string[], timeoutMs = 150_000): Promise<TrainingJob> {
    return waitFor(
      `${job.name} to be ${statuses.join(' or ')}`,
      async () => {
        const j = await this.getJob(job);
        return statuses.includes(j.status) ? j : null;
      },
      timeoutMs,
    );
  }
}
