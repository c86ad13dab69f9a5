/**
 * The node agent program (see ../node-agent.ts for the protocol). It runs inside the agent
 * container on the job's node, bundled to one file with nothing but Node's built-ins:
 *
 *   node /agent/agent.mjs <stage|scan|upload|remove|idle> [tag]
 *   node /agent/agent.mjs kill <tag>
 *   node /agent/agent.mjs serve
 *
 * The JSON input comes on stdin; newline-delimited AgentMessages go to stdout, diagnostics to
 * stderr. The tag only marks the process's command line so that `kill <tag>` can find it: the
 * console's way to end a command it no longer wants.
 *
 * The folders it works in were, or will be, in the hands of the job's container, which is not
 * trusted: everything there is done as the job's UID (privileges dropped right after the few
 * steps that need root), and nothing is ever reached through a link the job could have planted.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants, readFileSync, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rm, chown, chmod, access, writeFile, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  AGENT_NODE_ROOT,
  type AgentErrorCode,
  type AgentMessage,
  type ScanInput,
  type StageFile,
  type StageInput,
  type UploadFile,
  type UploadInput,
  type RemoveInput,
} from '../node-agent.js';

// ---------------------------------------------------------------------------------------------
// Limits

/** The store must answer a GET's headers within this. */
const HEADERS_TIMEOUT_MS = 30_000;
/** A body (either way) that moves no byte for this long fails; so do a PUT's late headers. */
const IDLE_TIMEOUT_MS = 120_000;
/** Extra attempts after a transport error or a 5xx, and the wait before each. */
const RETRY_BACKOFF_MS = [1_000, 3_000];
const PROGRESS_EVERY_MS = 200;
/** With nothing else to say (a long removal), the agent still speaks this often. */
const HEARTBEAT_MS = 60_000;
const MAX_INPUT_BYTES = 256 * 1024 * 1024;
/** Of an error answer's body, enough for S3's <Code> and <Message>. */
const MAX_ERROR_BODY = 16 * 1024;
const MAX_CONCURRENCY = 256;

// ---------------------------------------------------------------------------------------------
// Output

let lastWrite = Date.now();

function send(m: AgentMessage): void {
  lastWrite = Date.now();
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A failure the agent reports as its `error` message. */
class Failure extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    readonly extra: { group?: string; key?: string; path?: string; status?: number } = {},
  ) {
    super(message);
  }
}

const invalid = (message: string): Failure => new Failure('invalid', message);

/** Ends the process once stdout has taken the last message (a pipe may still hold it). */
function finish(code: number): void {
  process.stdout.write('', () => process.exit(code));
  // A reader that went away never calls back.
  setTimeout(() => process.exit(code), 2_000).unref();
}

// ---------------------------------------------------------------------------------------------
// Input checks

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An absolute, plain path strictly under AGENT_NODE_ROOT. */
function checkRoot(root: unknown): string {
  const prefix = `${AGENT_NODE_ROOT}/`;
  if (typeof root !== 'string' || !root.startsWith(prefix) || root.includes('\0')) {
    throw invalid(`the root must be a folder under ${prefix}: ${JSON.stringify(root)}`);
  }
  if (
    root
      .slice(prefix.length)
      .split('/')
      .some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw invalid(`the root must be a plain path under ${prefix} (no empty, "." or ".." segments): ${JSON.stringify(root)}`);
  }
  return root;
}

/** A plain relative path: it can only name something inside the folder it is joined to. */
function checkRelative(p: unknown, what: string): string {
  if (
    typeof p !== 'string' ||
    p === '' ||
    p.startsWith('/') ||
    p.includes('\0') ||
    p.split('/').some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw invalid(`${what} must be a plain relative path (no empty, "." or ".." segments): ${JSON.stringify(p)}`);
  }
  return p;
}

function checkUid(uid: unknown): number {
  // Never root: the point of taking the job's UID is to have no more rights than the job.
  if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 1 || uid > 0x7fffffff) {
    throw invalid(`uid must be a positive integer: ${JSON.stringify(uid)}`);
  }
  return uid;
}

function checkConcurrency(c: unknown, dflt: number): number {
  if (c === undefined || c === null) return dflt;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY) {
    throw invalid(`concurrency must be an integer from 1 to ${MAX_CONCURRENCY}: ${JSON.stringify(c)}`);
  }
  return c;
}

function checkSize(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalid(`${what} must be a byte count: ${JSON.stringify(n)}`);
  return n;
}

function checkUrl(u: unknown, what: string): URL {
  let url: URL | null;
  try {
    url = typeof u === 'string' ? new URL(u) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalid(`${what} must be an http(s) URL`);
  return url;
}

function checkString(s: unknown, what: string): string {
  if (typeof s !== 'string') throw invalid(`${what} must be a string`);
  return s;
}

function noDuplicates(paths: Iterable<string>, what: string): void {
  const seen = new Set<string>();
  for (const p of paths) {
    if (seen.has(p)) throw invalid(`${what} ${JSON.stringify(p)} is listed twice`);
    seen.add(p);
  }
}

interface Stage {
  root: string;
  uid: number;
  dirs: string[];
  groups: { name: string; files: (StageFile & { parsed: URL })[] }[];
  concurrency: number;
  marker: string | null;
  report: string[];
}

function parseStage(v: unknown): Stage {
  if (!isRecord(v)) throw invalid('the input must be a JSON object');
  const input = v as Partial<Record<keyof StageInput, unknown>>;
  if (input.dirs !== undefined && !Array.isArray(input.dirs)) throw invalid('dirs must be an array');
  if (!Array.isArray(input.groups)) throw invalid('groups must be an array');
  const stage: Stage = {
    root: checkRoot(input.root),
    uid: checkUid(input.uid),
    dirs: ((input.dirs as unknown[] | undefined) ?? []).map((d) => checkRelative(d, 'a folder')),
    groups: [],
    concurrency: checkConcurrency(input.concurrency, 16),
    marker: input.marker === undefined || input.marker === null ? null : checkRelative(input.marker, 'the marker'),
    report: Array.isArray(input.report) ? input.report.filter((r): r is string => typeof r === 'string') : [],
  };
  for (const g of input.groups as unknown[]) {
    if (!isRecord(g) || typeof g.name !== 'string' || !Array.isArray(g.files)) throw invalid('each group needs a name and files');
    const files = (g.files as unknown[]).map((f) => {
      if (!isRecord(f)) throw invalid(`group ${g.name}: each file must be an object`);
      const file: StageFile & { parsed: URL } = {
        path: checkRelative(f.path, 'a file path'),
        url: checkString(f.url, 'url'),
        size: checkSize(f.size, 'size'),
        key: checkString(f.key, 'key'),
        parsed: checkUrl(f.url, `the URL of ${String(f.path)}`),
      };
      if (f.etag !== undefined && f.etag !== null) file.etag = checkString(f.etag, 'etag');
      return file;
    });
    stage.groups.push({ name: g.name, files });
  }
  noDuplicates(
    stage.groups.flatMap((g) => g.files.map((f) => f.path)),
    'the file',
  );
  return stage;
}

interface Upload {
  root: string;
  uid: number;
  files: { path: string; size: number; url?: URL; parts?: { url: URL; size: number }[] }[];
  concurrency: number;
}

function parseUpload(v: unknown): Upload {
  if (!isRecord(v)) throw invalid('the input must be a JSON object');
  const input = v as Partial<Record<keyof UploadInput, unknown>>;
  if (!Array.isArray(input.files)) throw invalid('files must be an array');
  const files = (input.files as unknown[]).map((f) => {
    if (!isRecord(f)) throw invalid('each file must be an object');
    const file = f as Partial<Record<keyof UploadFile, unknown>>;
    const p = checkRelative(file.path, 'a file path');
    const size = checkSize(file.size, 'size');
    if ((file.url === undefined) === (file.parts === undefined)) throw invalid(`${p}: give either url or parts`);
    if (file.url !== undefined) return { path: p, size, url: checkUrl(file.url, `the URL of ${p}`) };
    if (!Array.isArray(file.parts) || file.parts.length === 0) throw invalid(`${p}: parts must be a non-empty array`);
    const parts = (file.parts as unknown[]).map((part, i) => {
      if (!isRecord(part)) throw invalid(`${p}: part ${i + 1} must be an object`);
      return { url: checkUrl(part.url, `${p}: the URL of part ${i + 1}`), size: checkSize(part.size, `${p}: the size of part ${i + 1}`) };
    });
    const total = parts.reduce((n, part) => n + part.size, 0);
    if (total !== size) throw invalid(`${p}: the parts add up to ${total} bytes, the file has ${size}`);
    return { path: p, size, parts };
  });
  noDuplicates(
    files.map((f) => f.path),
    'the file',
  );
  return { root: checkRoot(input.root), uid: checkUid(input.uid), files, concurrency: checkConcurrency(input.concurrency, 8) };
}

async function readInput(): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw invalid(`the input is larger than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw invalid(`the input is not JSON: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Privileges

/** From root to the job's UID (and the same GID), for good: setuid from root drops every capability. */
function dropTo(uid: number): void {
  if (typeof process.setuid !== 'function' || typeof process.setgid !== 'function' || typeof process.setgroups !== 'function') {
    throw new Failure('failed', 'this platform cannot change the process user');
  }
  if (process.getuid?.() !== 0) {
    if (process.getuid?.() === uid) return;
    throw new Failure('failed', `the agent runs as UID ${process.getuid?.()}, not as root: it cannot become UID ${uid}`);
  }
  process.setgroups([uid]);
  process.setgid(uid);
  process.setuid(uid);
}

// ---------------------------------------------------------------------------------------------
// Opening files beneath a root without following links the job planted

/**
 * Linux has openat(), Node does not; `/proc/self/fd/<n>/<name>` is the same thing: the kernel
 * resolves the descriptor's own directory (not the path it was opened by, which may have been
 * swapped for a link since) and then one name, which O_NOFOLLOW keeps from being a link.
 */
const at = (dir: FileHandle, name: string): string => `/proc/self/fd/${dir.fd}/${name}`;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** O_NONBLOCK: a FIFO swapped in for a file must not hang the open. */
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens the root itself (its own last segment may be a link the job made: refused). */
async function openRoot(root: string): Promise<FileHandle> {
  return open(root, DIR_FLAGS);
}

async function openFileBeneath(rootDir: FileHandle, rel: string): Promise<FileHandle> {
  const segments = rel.split('/');
  const name = segments.pop()!;
  const opened: FileHandle[] = [];
  try {
    let dir = rootDir;
    for (const s of segments) {
      dir = await open(at(dir, s), DIR_FLAGS);
      opened.push(dir);
    }
    return await open(at(dir, name), FILE_FLAGS);
  } finally {
    await Promise.all(opened.map((h) => h.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** A failed transfer: a status when the store answered, otherwise a transport error. */
class TransferError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** S3's <Code>, when the answer had one. */
    readonly storeCode: string | undefined,
    /** Worth another attempt: no answer, a broken connection or a 5xx. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Our own deadline passed: not retried, it already took long. */
class Deadline extends TransferError {
  constructor(message: string) {
    super(message, undefined, undefined, false);
  }
}

function httpModule(url: URL): typeof http | typeof https {
  return url.protocol === 'https:' ? https : http;
}

const plain = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}`;

function transportError(err: unknown, url: URL): TransferError {
  if (err instanceof TransferError) return err;
  const e = err as NodeJS.ErrnoException;
  const what = e.code ? `${e.code}${e.message && !e.message.includes(e.code) ? `: ${e.message}` : ` (${e.message})`}` : e.message;
  return new TransferError(`no answer from ${plain(url)}: ${what}`, undefined, undefined, true);
}

/** Reads at most MAX_ERROR_BODY of an error answer and pulls S3's <Code> and <Message> out. */
async function errorOf(res: http.IncomingMessage): Promise<{ code?: string; message?: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => res.destroy(), 10_000);
  try {
    for await (const chunk of res) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= MAX_ERROR_BODY) {
        res.destroy();
        break;
      }
    }
  } catch {
    // What arrived is enough.
  } finally {
    clearTimeout(timer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const tag = (name: string): string | undefined => {
    const m = new RegExp(`<${name}>([^<]{0,500})</${name}>`).exec(text);
    return m?.[1]?.trim() || undefined;
  };
  return { code: tag('Code'), message: tag('Message') };
}

async function statusError(res: http.IncomingMessage, url: URL): Promise<TransferError> {
  const status = res.statusCode ?? 0;
  const { code, message } = await errorOf(res);
  const detail = [code, message].filter(Boolean).join(': ');
  return new TransferError(`HTTP ${status}${detail ? ` ${detail}` : ''} from ${plain(url)}`, status, code, status >= 500);
}

function codeOf(err: TransferError): AgentErrorCode {
  if (err.status === undefined) return 'unavailable';
  if (err.status === 404) return 'not_found';
  if (err.status === 403) return 'denied';
  if (err.status >= 500) return 'unavailable';
  return 'failed';
}

/** Runs one attempt function up to 1 + RETRY_BACKOFF_MS.length times while it fails retryably. */
async function withRetries<T>(signal: AbortSignal, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const wait = RETRY_BACKOFF_MS[n];
      if (!(err instanceof TransferError) || !err.retryable || wait === undefined || signal.aborted) throw err;
      log(`retrying in ${wait} ms: ${err.message}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      if (signal.aborted) throw err;
    }
  }
}

/** A timer that can be pushed back, for "no byte moved for so long". */
class Idle {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {}
  touch(): void {
    this.stop();
    this.timer = setTimeout(this.onIdle, this.ms);
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Sends a request and resolves with the answer's headers, within `ms`. */
function requestHeaders(
  req: http.ClientRequest,
  url: URL,
  ms: number,
  what: string,
): { response: Promise<http.IncomingMessage>; startDeadline: () => void } {
  let timer: NodeJS.Timeout | null = null;
  let fail: (err: Error) => void = () => undefined;
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    fail = reject;
    req.once('response', (res) => {
      if (timer) clearTimeout(timer);
      resolve(res);
    });
    // on, not once: a request can fail twice (a deadline, then the socket it destroyed).
    req.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(transportError(err, url));
    });
  });
  // Handled by whoever awaits it; until then a rejection must not count as unhandled.
  response.catch(() => undefined);
  const startDeadline = (): void => {
    timer = setTimeout(() => {
      const err = new Deadline(`the store sent no answer to ${what} within ${ms / 1000} s (${plain(url)})`);
      fail(err);
      req.destroy(err);
    }, ms);
  };
  return { response, startDeadline };
}

// ---------------------------------------------------------------------------------------------
// Progress

class Progress {
  private readonly last = new Map<string, { at: number; timer: NodeJS.Timeout | null; files: number; bytes: number }>();
  readonly totals = new Map<string, { files: number; bytes: number }>();

  constructor(private readonly grouped: boolean) {}

  private totalsOf(group: string): { files: number; bytes: number } {
    let t = this.totals.get(group);
    if (!t) this.totals.set(group, (t = { files: 0, bytes: 0 }));
    return t;
  }

  add(group: string, files: number, bytes: number): void {
    const t = this.totalsOf(group);
    t.files += files;
    t.bytes += bytes;
    let l = this.last.get(group);
    if (!l) this.last.set(group, (l = { at: 0, timer: null, files: 0, bytes: 0 }));
    if (l.timer) return;
    const wait = l.at + PROGRESS_EVERY_MS - Date.now();
    if (wait <= 0) this.emit(group);
    else l.timer = setTimeout(() => this.emit(group), wait);
  }

  /** Sends the group's totals now if they moved since the last message. */
  emit(group: string): void {
    const t = this.totalsOf(group);
    const l = this.last.get(group) ?? { at: 0, timer: null, files: 0, bytes: 0 };
    if (l.timer) clearTimeout(l.timer);
    this.last.set(group, { at: Date.now(), timer: null, files: t.files, bytes: t.bytes });
    if (l.files === t.files && l.bytes === t.bytes) return;
    send(this.grouped ? { type: 'progress', group, files: t.files, bytes: t.bytes } : { type: 'progress', files: t.files, bytes: t.bytes });
  }

  stop(): void {
    for (const l of this.last.values()) if (l.timer) clearTimeout(l.timer);
  }
}

/** Runs `work` over `items` with `n` at a time; the first failure aborts the rest and is thrown. */
async function pool<T>(items: T[], n: number, abort: AbortController, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let first: unknown = null;
  const worker = async (): Promise<void> => {
    while (!abort.signal.aborted && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (err) {
        if (first === null) {
          first = err;
          abort.abort();
        }
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (first !== null) throw first;
}

function fsFailure(err: unknown, doing: string, extra: Failure['extra'] = {}): Failure {
  if (err instanceof Failure) return err;
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOSPC' ? 'no space left on the node' : e.code === 'EDQUOT' ? 'the disk quota is used up' : e.message;
  return new Failure('failed', `${doing}: ${why}`, extra);
}

// ---------------------------------------------------------------------------------------------
// stage

const unquote = (etag: string): string => etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

async function stage(raw: unknown): Promise<void> {
  const input = parseStage(raw);
  const { root, uid } = input;

  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= HEARTBEAT_MS) send({ type: 'progress', files: 0, bytes: 0 });
  }, HEARTBEAT_MS / 4);
  heartbeat.unref();

  // As root: the node root and the job's parent folders belong to root, the work folder to the job.
  try {
    // Emptied, not replaced: the training container may already have this folder mounted (it
    // starts while staging runs and waits for the marker), and a mount holds the folder itself.
    const existing = await readdir(root).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const name of existing) await rm(path.join(root, name), { recursive: true, force: true });
    await mkdir(path.dirname(root), { recursive: true, mode: 0o755 });
    // The job's UID must be able to pass through the folders above its own (scan and upload run
    // as it); passing through is all it gets, not listing.
    for (let dir = path.dirname(root); dir.startsWith(AGENT_NODE_ROOT); dir = path.dirname(dir)) {
      const { mode } = await lstat(dir);
      if ((mode & 0o111) !== 0o111) await chmod(dir, (mode & 0o7777) | 0o111);
      if (dir === AGENT_NODE_ROOT) break;
    }
    await mkdir(root, { recursive: true, mode: 0o755 });
    await chmod(root, 0o755);
    await chown(root, uid, uid);
  } catch (err) {
    throw fsFailure(err, `preparing ${root}`);
  }
  dropTo(uid);
  process.umask(0o022);

  const made = new Set<string>([root]);
  const makeDir = async (dir: string): Promise<void> => {
    if (made.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    made.add(dir);
  };
  for (const d of input.dirs) {
    try {
      await makeDir(path.join(root, d));
    } catch (err) {
      throw fsFailure(err, `making the folder ${d}`);
    }
  }

  const progress = new Progress(true);
  const left = new Map<string, number>();
  const done = (group: string): void => {
    progress.emit(group);
    const t = progress.totals.get(group) ?? { files: 0, bytes: 0 };
    send({ type: 'done', group, files: t.files, bytes: t.bytes });
  };
  for (const g of input.groups) {
    left.set(g.name, (left.get(g.name) ?? 0) + g.files.length);
    progress.totals.set(g.name, { files: 0, bytes: 0 });
  }
  for (const [name, n] of left) if (n === 0) done(name);

  const agent = new http.Agent({ keepAlive: true, maxSockets: input.concurrency });
  const secureAgent = new https.Agent({ keepAlive: true, maxSockets: input.concurrency });
  const abort = new AbortController();
  const tasks = input.groups.flatMap((g) => g.files.map((file) => ({ group: g.name, file })));
  try {
    await pool(tasks, input.concurrency, abort, async ({ group, file }) => {
      const target = path.join(root, file.path);
      const extra = { group, key: file.key, path: file.path };
      let fh: FileHandle;
      try {
        await makeDir(path.dirname(target));
        fh = await open(target, 'wx', 0o644);
      } catch (err) {
        throw fsFailure(err, `staging ${group}: writing ${file.path}`, extra);
      }
      try {
        await withRetries(abort.signal, async (n) => {
          if (n > 0) await fh.truncate(0);
          const got = await download(file, fh, file.parsed.protocol === 'https:' ? secureAgent : agent, abort.signal, (bytes) =>
            progress.add(group, 0, bytes),
          );
          if (got !== file.size) {
            throw new Failure(
              'changed',
              `staging ${group}: the object ${file.key} changed while staging: expected ${file.size} bytes, got ${got}`,
              extra,
            );
          }
        });
      } catch (err) {
        if (err instanceof Failure) {
          const message = err.message.startsWith('staging ') ? err.message : `staging ${group}: ${err.message}`;
          throw new Failure(err.code, message, { ...extra, ...err.extra });
        }
        if (err instanceof TransferError) {
          throw new Failure(codeOf(err), `staging ${group}: ${file.key}: ${err.message}`, {
            ...extra,
            ...(err.status ? { status: err.status } : {}),
          });
        }
        throw fsFailure(err, `staging ${group}: writing ${file.path}`, extra);
      } finally {
        await fh.close().catch(() => undefined);
      }
      progress.add(group, 1, 0);
      const n = (left.get(group) ?? 1) - 1;
      left.set(group, n);
      if (n === 0) done(group);
    });
  } finally {
    progress.stop();
    agent.destroy();
    secureAgent.destroy();
  }
  // Before the marker: the job's command has not started, so these are the files as staged.
  for (const g of input.groups) {
    if (!input.report.includes(g.name)) continue;
    for (const file of g.files) {
      const s = await lstat(path.join(root, file.path)).catch(() => null);
      if (s?.isFile()) send({ type: 'file', path: file.path, size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  if (input.marker) {
    try {
      await writeFile(path.join(root, input.marker), '', { flag: 'wx', mode: 0o644 });
    } catch (err) {
      throw fsFailure(err, `making the marker ${input.marker}`);
    }
  }
  send({ type: 'end' });
}

/** One GET into `fh` from offset 0; resolves with the bytes written. Checks status, ETag and length. */
async function download(
  file: StageFile & { parsed: URL },
  fh: FileHandle,
  agent: http.Agent,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<number> {
  const url = file.parsed;
  const req = httpModule(url).request(url, { method: 'GET', agent, signal });
  const { response, startDeadline } = requestHeaders(req, url, HEADERS_TIMEOUT_MS, 'a download');
  startDeadline();
  req.end();
  const res = await response;
  let written = 0;
  try {
    if (res.statusCode !== 200) throw await statusError(res, url);
    if (file.etag !== undefined) {
      const got = unquote(String(res.headers.etag ?? ''));
      if (got !== unquote(file.etag)) {
        throw new Failure('changed', `the object ${file.key} changed: its ETag is ${got || '(none)'}, expected ${unquote(file.etag)}`);
      }
    }
    const length = res.headers['content-length'];
    if (length !== undefined && Number(length) !== file.size) {
      throw new Failure('changed', `the object ${file.key} changed while staging: expected ${file.size} bytes, got ${Number(length)}`);
    }
    const idle = new Idle(IDLE_TIMEOUT_MS, () =>
      res.destroy(new Deadline(`the download of ${file.key} moved no byte for ${IDLE_TIMEOUT_MS / 1000} s (${plain(url)})`)),
    );
    idle.touch();
    try {
      for await (const chunk of res) {
        idle.touch();
        const buf = chunk as Buffer;
        if (written + buf.length > file.size) {
          throw new Failure('changed', `the object ${file.key} changed while staging: expected ${file.size} bytes, got more`);
        }
        await fh.write(buf, 0, buf.length, written);
        written += buf.length;
        onBytes(buf.length);
      }
    } catch (err) {
      if (err instanceof Failure || err instanceof TransferError) throw err;
      const e = err as NodeJS.ErrnoException;
      // A write that failed is the node's problem; anything from the response is the transfer's.
      if (e.syscall === 'write' && e.code && ['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EROFS'].includes(e.code)) throw err;
      throw transportError(err, url);
    } finally {
      idle.stop();
    }
  } catch (err) {
    // The bytes of a failed attempt are taken back out of the running totals.
    if (written) onBytes(-written);
    res.destroy();
    throw err;
  }
  return written;
}

// ---------------------------------------------------------------------------------------------
// scan

/** A name that does not survive UTF-8 cannot be named in JSON, so it cannot be uploaded. */
function utf8Name(name: Buffer): string | null {
  const s = name.toString('utf8');
  return Buffer.from(s, 'utf8').equals(name) ? s : null;
}

async function scan(raw: unknown): Promise<void> {
  if (!isRecord(raw)) throw invalid('the input must be a JSON object');
  const input = raw as Partial<Record<keyof ScanInput, unknown>>;
  const root = checkRoot(input.root);
  const uid = checkUid(input.uid);
  dropTo(uid);

  let files = 0;
  let bytes = 0;
  let st;
  try {
    st = await lstat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return send({ type: 'end', files: 0, bytes: 0 });
    throw fsFailure(err, `reading ${root}`);
  }
  if (!st.isDirectory()) {
    send({ type: 'skipped', path: '', kind: st.isSymbolicLink() ? 'link' : 'special' });
    return send({ type: 'end', files: 0, bytes: 0 });
  }
  let rootDir: FileHandle;
  try {
    rootDir = await openRoot(root);
  } catch (err) {
    // Swapped for a link or something else since the lstat.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      send({ type: 'skipped', path: '', kind: 'link' });
      return send({ type: 'end', files: 0, bytes: 0 });
    }
    throw fsFailure(err, `opening ${root}`);
  }

  const walk = async (dir: FileHandle, prefix: string): Promise<void> => {
    let entries: Dirent<Buffer>[];
    try {
      entries = await readdir(`/proc/self/fd/${dir.fd}`, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      throw fsFailure(err, `listing ${prefix || '.'} in ${root}`);
    }
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const e of entries) {
      const name = utf8Name(e.name);
      const rel = name === null ? `${prefix}${e.name.toString('utf8')}` : `${prefix}${name}`;
      if (name === null || name.includes('/')) {
        send({ type: 'skipped', path: rel, kind: 'special' });
        continue;
      }
      let s;
      try {
        s = await lstat(at(dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw fsFailure(err, `reading ${rel} in ${root}`);
      }
      if (s.isSymbolicLink()) send({ type: 'skipped', path: rel, kind: 'link' });
      else if (s.isFile()) {
        // One the job made unreadable (chmod 000) would fail the whole upload; it is left out.
        const readable = await access(at(dir, name), constants.R_OK).then(
          () => true,
          () => false,
        );
        if (!readable) {
          send({ type: 'skipped', path: rel, kind: 'special' });
          continue;
        }
        files += 1;
        bytes += s.size;
        send({ type: 'file', path: rel, size: s.size, mtimeMs: s.mtimeMs });
      } else if (s.isDirectory()) {
        let sub: FileHandle;
        try {
          sub = await open(at(dir, name), DIR_FLAGS);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP' || code === 'ENOTDIR') send({ type: 'skipped', path: rel, kind: 'link' });
          else if (code === 'EACCES') send({ type: 'skipped', path: rel, kind: 'special' });
          else if (code !== 'ENOENT') throw fsFailure(err, `opening ${rel} in ${root}`);
          continue;
        }
        try {
          await walk(sub, `${rel}/`);
        } finally {
          await sub.close();
        }
      } else send({ type: 'skipped', path: rel, kind: 'special' });
    }
  };
  try {
    await walk(rootDir, '');
  } finally {
    await rootDir.close();
  }
  send({ type: 'end', files, bytes });
}

// ---------------------------------------------------------------------------------------------
// upload

async function upload(raw: unknown): Promise<void> {
  const input = parseUpload(raw);
  dropTo(input.uid);

  let rootDir: FileHandle;
  try {
    rootDir = await openRoot(input.root);
  } catch (err) {
    throw fsFailure(err, `opening ${input.root}`);
  }
  const progress = new Progress(false);
  const agent = new http.Agent({ keepAlive: true, maxSockets: input.concurrency });
  const secureAgent = new https.Agent({ keepAlive: true, maxSockets: input.concurrency });
  const abort = new AbortController();
  let files = 0;
  let bytes = 0;
  try {
    await pool(input.files, input.concurrency, abort, async (file) => {
      const extra = { path: file.path };
      let fh: FileHandle;
      try {
        fh = await openFileBeneath(rootDir, file.path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR')
          throw new Failure('failed', `${file.path} is not a plain file inside the outputs (a link in its way)`, extra);
        throw fsFailure(err, `opening ${file.path}`, extra);
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new Failure('failed', `${file.path} is not a regular file`, extra);
        if (st.size !== file.size)
          throw new Failure('changed', `${file.path} changed after the scan: it had ${file.size} bytes, now ${st.size}`, extra);
        const ranges = file.parts ?? [{ url: file.url!, size: file.size }];
        const etags: string[] = [];
        let offset = 0;
        for (const [i, part] of ranges.entries()) {
          const a = part.url.protocol === 'https:' ? secureAgent : agent;
          const start = offset;
          const res = await withRetries(abort.signal, () =>
            put(fh, start, part.size, part.url, a, abort.signal, (n) => progress.add('', 0, n)),
          );
          if (res.refused) {
            const what = file.parts ? ` (part ${i + 1} of ${file.parts.length})` : '';
            send({ type: 'refused', path: file.path, status: res.refused.status, message: `${res.refused.message}${what}` });
            return;
          }
          etags.push(res.etag);
          offset += part.size;
        }
        if (file.parts) send({ type: 'parts', path: file.path, etags });
        files += 1;
        bytes += file.size;
        progress.add('', 1, 0);
      } catch (err) {
        if (err instanceof Failure) throw new Failure(err.code, err.message, { ...extra, ...err.extra });
        if (err instanceof TransferError) {
          throw new Failure(codeOf(err), `uploading ${file.path}: ${err.message}`, {
            ...extra,
            ...(err.status ? { status: err.status } : {}),
          });
        }
        throw fsFailure(err, `reading ${file.path}`, extra);
      } finally {
        await fh.close().catch(() => undefined);
      }
    });
  } finally {
    progress.stop();
    agent.destroy();
    secureAgent.destroy();
    await rootDir.close().catch(() => undefined);
  }
  progress.emit('');
  send({ type: 'end', files, bytes });
}

const READ_CHUNK = 256 * 1024;

/**
 * `size` bytes of `fh` from `start`, read at their positions. Not fh.createReadStream: its
 * destroy() closes the handle even with autoClose false, and the parts of a file share one.
 */
function rangeStream(fh: FileHandle, start: number, size: number): Readable {
  let pos = start;
  const end = start + size;
  return new Readable({
    highWaterMark: READ_CHUNK,
    read(): void {
      const n = Math.min(READ_CHUNK, end - pos);
      if (n <= 0) {
        this.push(null);
        return;
      }
      fh.read(Buffer.allocUnsafe(n), 0, n, pos).then(
        ({ bytesRead, buffer }) => {
          if (bytesRead === 0) {
            this.destroy(new Failure('changed', `the file got shorter while it was uploaded (${end - pos} bytes missing)`));
            return;
          }
          pos += bytesRead;
          this.push(buffer.subarray(0, bytesRead));
        },
        (err: unknown) => this.destroy(err as Error),
      );
    },
  });
}

/** One PUT of `size` bytes of `fh` from `start`. 200: its ETag; 400: refused; else throws. */
async function put(
  fh: FileHandle,
  start: number,
  size: number,
  url: URL,
  agent: http.Agent,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<{ etag: string; refused?: undefined } | { refused: { status: number; message: string } }> {
  const req = httpModule(url).request(url, { method: 'PUT', agent, signal, headers: { 'content-length': String(size) } });
  const { response, startDeadline } = requestHeaders(req, url, IDLE_TIMEOUT_MS, 'an upload');
  let sent = 0;
  /** The file could not be read: the node's fault, not the store's, and not worth retrying. */
  let bodyError: Error | null = null;
  const idle = new Idle(IDLE_TIMEOUT_MS, () => {
    req.destroy(new Deadline(`the upload to ${plain(url)} could not send a byte for ${IDLE_TIMEOUT_MS / 1000} s`));
  });
  // The headers' deadline starts once the whole body is handed over.
  req.once('finish', () => {
    idle.stop();
    startDeadline();
  });
  idle.touch();
  if (size === 0) req.end();
  else {
    const body = rangeStream(fh, start, size);
    body.on('data', (chunk: Buffer) => {
      idle.touch();
      sent += chunk.length;
      onBytes(chunk.length);
    });
    body.on('error', (err) => {
      bodyError = err;
      req.destroy(err);
    });
    req.once('close', () => body.destroy());
    body.pipe(req);
  }
  let res: http.IncomingMessage;
  try {
    res = await response;
  } catch (err) {
    idle.stop();
    onBytes(-sent);
    if (bodyError) throw fsFailure(bodyError, 'reading the file');
    throw err;
  }
  idle.stop();
  if (res.statusCode === 200) {
    const etag = String(res.headers.etag ?? '');
    res.on('error', () => undefined);
    res.resume();
    return { etag };
  }
  onBytes(-sent);
  const err = await statusError(res, url);
  if (res.statusCode === 400) return { refused: { status: 400, message: err.message } };
  throw err;
}

// ---------------------------------------------------------------------------------------------
// remove, idle, kill

async function remove(raw: unknown): Promise<void> {
  if (!isRecord(raw)) throw invalid('the input must be a JSON object');
  const root = checkRoot((raw as Partial<Record<keyof RemoveInput, unknown>>).root);
  const heartbeat = setInterval(() => {
    if (Date.now() - lastWrite >= HEARTBEAT_MS) send({ type: 'progress', files: 0, bytes: 0 });
  }, HEARTBEAT_MS / 4);
  try {
    // rm never follows a link: a link the job left is removed, not what it points at.
    await rm(root, { recursive: true, force: true });
  } catch (err) {
    throw fsFailure(err, `removing ${root}`);
  } finally {
    clearInterval(heartbeat);
  }
  send({ type: 'end' });
}

function idle(): void {
  const stop = (): void => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setInterval(() => undefined, 1 << 30);
}

const TAG = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Ends the agent command whose command line carries `tag`. It may run as the job's UID by now,
 * and the container has no CAP_KILL, so the signal is sent as that UID. Exit 0: killed; 3: no
 * such process (already ended, or not started yet).
 */
async function kill(tag: string | undefined): Promise<number> {
  if (!tag || !TAG.test(tag)) throw invalid(`kill needs a tag: ${JSON.stringify(tag)}`);
  const script = process.argv[1];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    let uid: number;
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (argv[1] !== script || argv[3] !== tag || argv[2] === 'kill') continue;
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    } catch {
      continue;
    }
    if (uid !== 0 && Number.isInteger(uid)) dropTo(uid);
    try {
      process.kill(Number(entry), 'SIGKILL');
      log(`killed ${entry}`);
      return 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 3;
      throw err;
    }
  }
  return 3;
}

// ---------------------------------------------------------------------------------------------
// serve: the same commands over HTTP, for a multi-host engine (swarm) whose manager cannot exec
// into other nodes' containers. Each request runs the one-command-per-process path above in a
// child process, so the privilege handling is exactly that of a `docker exec`.

const SERVE_COMMANDS = new Set(['stage', 'scan', 'upload', 'remove']);
/** How often an aborted command's child is signalled again until it is gone. */
const SERVE_KILL_EVERY_MS = 200;
const SERVE_KILL_TRIES = 75;

function readToken(file: string | undefined): Buffer {
  if (!file) throw invalid("serve needs AGENT_TOKEN_FILE (the file holding the console's token)");
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw invalid(`the token in ${file} is missing or too short`);
  // Compared as digests: equal lengths whatever the client sends, so the compare is constant-time.
  return createHash('sha256').update(token).digest();
}

function authorized(header: string | undefined, want: Buffer): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m?.[1]) return false;
  return timingSafeEqual(createHash('sha256').update(m[1].trim()).digest(), want);
}

function serve(): void {
  const port = Number(process.env.AGENT_PORT ?? 7731);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(`AGENT_PORT must be a port number: ${process.env.AGENT_PORT}`);
  const token = readToken(process.env.AGENT_TOKEN_FILE);
  const script = process.argv[1]!;

  const server = http.createServer((req, res) => {
    const reply = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(`${text}\n`);
    };
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/health') return reply(200, 'ok');
    const m = /^\/run\/([a-z]+)$/.exec(url);
    if (!m || !SERVE_COMMANDS.has(m[1]!)) return reply(404, 'not found');
    if (req.method !== 'POST') return reply(405, 'use POST');
    if (!authorized(req.headers.authorization, token)) return reply(401, 'unauthorized');
    if (Number(req.headers['content-length'] ?? 0) > MAX_INPUT_BYTES)
      return reply(413, `the input is larger than ${MAX_INPUT_BYTES} bytes`);

    const command = m[1]!;
    const tag = randomBytes(8).toString('hex');
    const child = spawn(process.execPath, [script, command, tag], { stdio: ['pipe', 'pipe', 'inherit'] });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    child.on('error', (err) => {
      // Not started at all. A signal it could not take (EPERM: it is the job's UID by now) is
      // not that: `kill <tag>` below takes care of it.
      if (child.pid === undefined) {
        log(`${command} ${tag}: ${err.message}`);
        exited = true;
        res.destroy();
      }
    });
    // The child may have become the job's UID, which this process (no CAP_KILL) cannot signal:
    // `kill <tag>` takes that UID to do it, and is repeated until the child is gone.
    const end = (): void => {
      if (exited) return;
      child.kill('SIGKILL');
      let tries = 0;
      const again = setInterval(() => {
        if (exited) return clearInterval(again);
        if (++tries > SERVE_KILL_TRIES) {
          clearInterval(again);
          return log(`${command} ${tag}: still running after ${SERVE_KILL_TRIES} attempts to end it`);
        }
        spawn(process.execPath, [script, 'kill', tag], { stdio: ['ignore', 'ignore', 'inherit'] }).once('error', () => undefined);
      }, SERVE_KILL_EVERY_MS);
      spawn(process.execPath, [script, 'kill', tag], { stdio: ['ignore', 'ignore', 'inherit'] }).once('error', () => undefined);
    };
    res.once('close', () => {
      if (!res.writableFinished) end();
    });
    req.once('error', end);

    // The exit status comes last, as a trailer: a child that died without its own error message
    // (killed by the kernel, say) is still told apart from a clean end.
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', trailer: 'x-agent-exit' });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    child.stdout.pipe(res, { end: false });
    child.once('close', (code, sig) => {
      if (res.destroyed) return;
      res.addTrailers({ 'x-agent-exit': sig ? `signal ${sig}` : String(code) });
      res.end();
    });
  });
  // Bodies may be large and slow; a command's answer may take hours (long stagings).
  server.requestTimeout = 0;
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('error', (err) => {
    // Most likely another console's agent has the port (host network): each console needs its own.
    log(`the node agent cannot serve on port ${port}: ${err.message}`);
    process.exit(1);
  });
  server.listen(port, () => log(`the node agent serves on port ${port}`));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const [command, tag] = process.argv.slice(2);
  if (tag !== undefined && !TAG.test(tag)) throw invalid(`bad tag ${JSON.stringify(tag)}`);
  switch (command) {
    case 'idle':
      return idle();
    case 'serve':
      return serve();
    case 'kill':
      return finish(await kill(tag));
    case 'stage':
      await stage(await readInput());
      break;
    case 'scan':
      await scan(await readInput());
      break;
    case 'upload':
      await upload(await readInput());
      break;
    case 'remove':
      await remove(await readInput());
      break;
    default:
      throw invalid(`unknown command ${JSON.stringify(command)}; use stage, scan, upload, remove, idle, serve or kill`);
  }
  finish(0);
}

// A reader that went away (the console's connection broke) is no reason to go on.
process.stdout.on('error', () => process.exit(1));

main().catch((err: unknown) => {
  const f =
    err instanceof Failure
      ? err
      : err instanceof TransferError
        ? new Failure(codeOf(err), err.message)
        : new Failure('failed', `the node agent failed: ${(err as Error)?.message ?? String(err)}`);
  log((err as Error)?.stack ?? String(err));
  send({ type: 'error', code: f.code, message: f.message, ...f.extra });
  finish(1);
});
