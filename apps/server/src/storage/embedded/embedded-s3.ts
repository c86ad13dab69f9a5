import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface EmbeddedS3Options {
  port: number;
  /**
   * The address it listens on: loopback unless configured (EMBEDDED_S3_HOST), e.g. an address
   * other machines' node agents reach. The store is a fake meant for one machine; see README.
   */
  host?: string;
  /** Where the objects live (created if missing). */
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** One line per event worth an operator's attention (restarts, the server's own errors). */
  log?: (line: string) => void;
}

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The server process now serving, if any; it changes when the supervisor restarts it. */
  readonly pid: number | undefined;
  /** How often the server had to be restarted since it first answered. */
  readonly restarts: number;
  stop(): Promise<void>;
}

/** s3rver answers every region; this is what clients should sign with. */
const REGION = 'us-east-1';
const READY_TIMEOUT_MS = 30_000;
/** Attempts before startEmbeddedS3 gives up: a start-up failure is usually permanent (port taken). */
const START_ATTEMPTS = 3;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
/** A child that served this long is considered healthy again: the next crash restarts it at once. */
const STABLE_MS = 30_000;
const STOP_GRACE_MS = 3_000;

/**
 * Starts the embedded S3 server (s3rver, a fake for a machine without an S3 store) in its own
 * process and keeps it running: when it dies (s3rver has been seen to on a key the file system
 * cannot name) it is started again with backoff, so the console itself never goes down with it.
 * Resolves once the server answers HTTP; rejects when it cannot be started at all.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[embedded S3] ${line}\n`));
  const host = options.host ?? '127.0.0.1';
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  const command = childCommand();

  /** The process serving now (null while it is being restarted). */
  let child: ChildProcess | null = null;
  /** The process spawned last, serving or still starting: the one stop() must end. */
  let latest: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let backoffMs = BACKOFF_MIN_MS;
  let restartTimer: NodeJS.Timeout | null = null;

  /** Spawns one child and resolves when it answers; rejects (and kills it) when it does not. */
  const launch = (): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, command, {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: {
          ...process.env,
          TC_EMBEDDED_S3_PORT: String(options.port),
          TC_EMBEDDED_S3_HOST: host,
          TC_EMBEDDED_S3_DIR: options.dir,
          TC_EMBEDDED_S3_ACCESS_KEY_ID: options.accessKeyId,
          TC_EMBEDDED_S3_SECRET_ACCESS_KEY: options.secretAccessKey,
        },
      });
      latest = proc;
      const tail: string[] = [];
      const collect = (stream: NodeJS.ReadableStream | null) => {
        let partial = '';
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.trim()) continue;
            tail.push(line);
            if (tail.length > 20) tail.shift();
            log(line);
          }
        });
      };
      collect(proc.stdout);
      collect(proc.stderr);

      let settled = false;
      const onError = (err: Error) => fail(`the embedded S3 server could not be started (${err.message})`);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`the embedded S3 server exited during start-up (${signal ?? `exit code ${code}`})`);
      const timer = setTimeout(
        () => fail(`the embedded S3 server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s`),
        READY_TIMEOUT_MS,
      );
      function fail(why: string) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`${why}${tail.length ? `:\n${tail.join('\n')}` : ''}`));
      }
      proc.once('error', onError);
      proc.once('exit', onExit);
      // Only after the child has bound the port itself does an answer on it prove anything:
      // otherwise a stranger on that port would pass for our server.
      proc.on('message', (msg: unknown) => {
        if (settled || !isListening(msg)) return;
        waitForHttp(host, options.port, () => settled).then(
          () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            proc.off('exit', onExit);
            proc.off('error', onError);
            // Supervision must not keep the console alive once everything else has finished.
            proc.unref();
            proc.channel?.unref();
            for (const s of [proc.stdout, proc.stderr]) (s as Socket | null)?.unref();
            resolve(proc);
          },
          (err: Error) => fail(err.message),
        );
      });
    });

  const supervise = (proc: ChildProcess) => {
    child = proc;
    const startedAt = Date.now();
    proc.once('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      if (Date.now() - startedAt > STABLE_MS) backoffMs = BACKOFF_MIN_MS;
      log(`the server process ${proc.pid} died (${signal ?? `exit code ${code}`}); restarting in ${backoffMs} ms`);
      scheduleRestart();
    });
  };

  const scheduleRestart = () => {
    const delay = backoffMs;
    backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      launch().then(
        (proc) => {
          if (stopping) {
            proc.kill('SIGKILL');
            return;
          }
          restarts++;
          log(`the server is answering again (process ${proc.pid})`);
          supervise(proc);
        },
        (err: Error) => {
          if (stopping) return;
          log(`restart failed: ${err.message}`);
          scheduleRestart();
        },
      );
    }, delay);
    restartTimer.unref();
  };

  let lastError: Error | null = null;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      supervise(await launch());
      lastError = null;
      break;
    } catch (err) {
      lastError = err as Error;
      if (attempt < START_ATTEMPTS) await sleep(BACKOFF_MIN_MS * attempt);
    }
  }
  if (lastError) throw lastError;

  return {
    endpoint,
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    region: REGION,
    get pid() {
      return child?.pid;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const proc = latest;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * The child is TypeScript like the rest of the server, so it runs under tsx's loader, resolved to
 * a file URL here because `--import tsx` would be resolved from the working directory, which may
 * be anywhere. Spawning process.execPath rather than fork() keeps whatever loader flags the
 * parent runs under (tsx's, Vitest's) out of the child. The legacy OpenSSL provider is for s3rver's
 * ListObjectsV2 continuation tokens, which it encrypts with DES (unsupported by Node 20's
 * OpenSSL 3: every paginated listing would answer 500).
 */
function childCommand(): string[] {
  const legacy = '--openssl-legacy-provider';
  const compiled = fileURLToPath(new URL('./embedded-s3-child.js', import.meta.url));
  if (existsSync(compiled)) return [legacy, compiled];
  const source = fileURLToPath(new URL('./embedded-s3-child.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [legacy, '--import', tsx, source];
}

function isListening(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'listening';
}

/** Any HTTP answer (an anonymous GET / gets 403) proves the server accepts and serves requests. */
async function waitForHttp(host: string, port: number, cancelled: () => boolean): Promise<void> {
  let last = '';
  for (let i = 0; i < 50 && !cancelled(); i++) {
    try {
      await httpGet(host, port);
      return;
    } catch (err) {
      last = (err as Error).message;
      await sleep(100);
    }
  }
  throw new Error(`the embedded S3 server bound port ${port} but does not answer HTTP (${last})`);
}

function httpGet(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: 2000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
