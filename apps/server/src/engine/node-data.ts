import type { NodeTransfer } from '@tc/contracts';
import type { ObjectStore } from '../storage/object-store.js';
import { AgentError, type AgentErrorCode, type NodeAgent, type StageFile, type UploadFile } from './node-agent.js';
import { CONTAINER_UID, classifyKey } from './paths.js';

/**
 * The console's half of moving a job's data on its node: it lists, decides what may be staged
 * or uploaded under the container contract's rules, signs one URL per object, and reads the
 * agent's progress. The bytes go between the store and the node, never through here.
 */

/** How long a staging URL is good for: the agent starts every GET within the staging. */
export const STAGING_URL_SECONDS = 15 * 60;
/** Uploads may queue behind large files longer than staging does. */
export const UPLOAD_URL_SECONDS = 60 * 60;
/** One PUT takes up to 5 GiB on S3; larger files go up in parts. */
export const SINGLE_PUT_MAX = 5 * 1024 ** 3;
const PART_SIZE = 512 * 1024 ** 2;
/** S3's limit on a key, in bytes; a longer one is refused by every store, so it is not sent. */
const MAX_KEY_BYTES = 1024;

export interface StagingReport {
  files: number;
  bytes: number;
  /** Names over the length limit, skipped as the reference says. */
  skippedLong: string[];
  /** Keys that would escape their folder (`..`, empty segments, NUL), refused. */
  skippedUnsafe: string[];
}

export interface StagingPlan {
  files: StageFile[];
  /** What will be staged (files, bytes) and what was left out, before any byte moves. */
  report: StagingReport;
}

/**
 * Lists the objects under a prefix and signs a GET for each one that may be staged into `dest`
 * (a folder relative to the work folder). Pinned listings (dataset versions) carry their ETag,
 * which the agent checks.
 */
export async function planStaging(store: ObjectStore, bucket: string, prefix: string, dest: string): Promise<StagingPlan> {
  const report: StagingReport = { files: 0, bytes: 0, skippedLong: [], skippedUnsafe: [] };
  const files: StageFile[] = [];
  for await (const obj of store.list(bucket, prefix)) {
    const v = classifyKey(obj.key, prefix);
    if (!v.ok) {
      if (v.why === 'too-long') report.skippedLong.push(v.relative);
      else if (v.why === 'unsafe') report.skippedUnsafe.push(v.relative);
      continue;
    }
    files.push({
      path: `${dest}/${v.relative}`,
      url: await store.presign('GET', bucket, obj.key, STAGING_URL_SECONDS),
      size: obj.size,
      ...(obj.etag ? { etag: obj.etag } : {}),
      key: `s3://${bucket}/${obj.key}`,
    });
    report.files += 1;
    report.bytes += obj.size;
  }
  return { files, report };
}

/** Rate-limits progress writes: the last state is always kept, written at most every `ms`. */
export function throttled<T>(ms: number, write: (v: T) => void): { set(v: T): void; flush(): void } {
  let last = 0;
  let pending: T | undefined;
  let timer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending === undefined) return;
    const v = pending;
    pending = undefined;
    last = Date.now();
    write(v);
  };
  return {
    set(v: T) {
      pending = v;
      const wait = last + ms - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    flush,
  };
}

/** A transfer's failure in the words of the step it belongs to. */
export class TransferError extends Error {
  constructor(
    message: string,
    readonly code: AgentErrorCode,
    /** The stage group (code, data) that failed, when known. */
    readonly group: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function transferError(err: unknown, what: string): TransferError {
  if (err instanceof AgentError) {
    const i = err.info;
    // The step already names the group; the store's answer names the request like the console's own calls do.
    let msg = err.message.replace(/^staging \w+: /, '');
    if (i?.key && msg.startsWith(`${i.key}: `)) msg = `GetObject ${i.key}: ${msg.slice(i.key.length + 2)}`;
    const where = i?.key ?? (i?.path ? `${what} ${i.path}` : '');
    if (where && !msg.includes(where)) msg = `${where}: ${msg}`;
    return new TransferError(msg, i?.code ?? 'failed', i?.group, { cause: err });
  }
  return new TransferError((err as Error).message, 'failed', undefined, { cause: err });
}

/**
 * Stages the groups into the node's work folder (made afresh, owned by the contract's UID) and
 * reports progress as the agent sends it. Resolves with each group's finish, or rejects with
 * a TransferError naming the group and the object.
 */
export async function stageOnNode(
  agent: NodeAgent,
  workDir: string,
  dirs: string[],
  groups: { name: string; plan: StagingPlan }[],
  onProgress: (t: NodeTransfer) => void,
  onGroupDone: (name: string) => void,
  signal?: AbortSignal,
  /** Made (relative to the work folder) once all is staged: the training container waits for it. */
  marker?: string,
  /** Groups whose staged files are told to `onStaged` (path relative to the work folder), before the marker. */
  report?: { groups: string[]; onStaged: (f: ScannedFile) => void },
): Promise<void> {
  const filesTotal = groups.reduce((n, g) => n + g.plan.files.length, 0);
  const bytesTotal = groups.reduce((n, g) => n + g.plan.report.bytes, 0);
  const done = new Map<string, { files: number; bytes: number }>();
  const sum = () => {
    let files = 0;
    let bytes = 0;
    for (const v of done.values()) {
      files += v.files;
      bytes += v.bytes;
    }
    return { files, bytes };
  };
  onProgress({ step: 'download', files: 0, filesTotal, bytes: 0, bytesTotal, done: false });
  try {
    await agent.run(
      {
        command: 'stage',
        input: {
          root: agent.agentPath(workDir),
          uid: CONTAINER_UID,
          dirs,
          groups: groups.map((g) => ({ name: g.name, files: g.plan.files })),
          ...(marker ? { marker } : {}),
          ...(report ? { report: report.groups } : {}),
        },
      },
      (m) => {
        if (m.type === 'file' && report)
          report.onStaged({ path: m.path, size: m.size, ...(m.mtimeMs === undefined ? {} : { mtimeMs: m.mtimeMs }) });
        if ((m.type === 'progress' || m.type === 'done') && m.group) {
          done.set(m.group, { files: m.files, bytes: m.bytes });
          onProgress({ step: 'download', ...sum(), filesTotal, bytesTotal, done: false });
          if (m.type === 'done') onGroupDone(m.group);
        }
      },
      signal,
    );
  } catch (err) {
    throw transferError(err, 'file');
  }
  onProgress({ step: 'download', files: filesTotal, filesTotal, bytes: bytesTotal, bytesTotal, done: true });
}

/** A file the agent's scan found. */
export interface ScannedFile {
  path: string;
  size: number;
  mtimeMs?: number;
}

export interface UploadReport {
  files: number;
  bytes: number;
  /** The files sent (those the store refused left out). */
  sent: ScannedFile[];
  /** Links and special files in the outputs folder: not followed, not uploaded. */
  skipped: string[];
  /** Files whose key the store refused (a name too long for it, say): not uploaded, listed. */
  refused: string[];
}

/** The regular files under a folder of the node (its links and special files apart), as the agent lists them. */
export async function scanOnNode(
  agent: NodeAgent,
  dir: string,
  signal?: AbortSignal,
): Promise<{ files: ScannedFile[]; skipped: string[] }> {
  const files: ScannedFile[] = [];
  const skipped: string[] = [];
  try {
    await agent.run(
      { command: 'scan', input: { root: agent.agentPath(dir), uid: CONTAINER_UID } },
      (m) => {
        if (m.type === 'file') files.push({ path: m.path, size: m.size, ...(m.mtimeMs === undefined ? {} : { mtimeMs: m.mtimeMs }) });
        else if (m.type === 'skipped') skipped.push(m.path || '(the outputs folder itself is a link)');
      },
      signal,
    );
  } catch (err) {
    throw transferError(err, 'output');
  }
  return { files, skipped };
}

/**
 * Uploads the regular files of the node's outputs folder under the prefix, straight from the
 * node: the agent lists them (never following a link), the console signs a PUT for each key
 * (parts for files over SINGLE_PUT_MAX), the agent sends them and reports progress.
 */
export async function uploadFromNode(
  agent: NodeAgent,
  store: ObjectStore,
  outputsDir: string,
  bucket: string,
  prefix: string,
  onProgress: (t: NodeTransfer) => void,
  options: {
    singlePutMax?: number;
    partSize?: number;
    signal?: AbortSignal;
    /** Which of the scanned files to send (checkpoints: only those changed since the last upload); all when absent. */
    select?: (found: ScannedFile[]) => ScannedFile[];
  } = {},
): Promise<UploadReport> {
  const report: UploadReport = { files: 0, bytes: 0, sent: [], skipped: [], refused: [] };
  const root = agent.agentPath(outputsDir);
  const scanned = await scanOnNode(agent, outputsDir, options.signal);
  report.skipped.push(...scanned.skipped);
  const found = options.select ? options.select(scanned.files) : scanned.files;
  const singlePutMax = options.singlePutMax ?? SINGLE_PUT_MAX;
  const partSize = options.partSize ?? PART_SIZE;
  const files: UploadFile[] = [];
  const multipart = new Map<string, { key: string; uploadId: string }>();
  try {
    for (const f of found) {
      const key = `${prefix}${f.path}`;
      if (Buffer.byteLength(key) > MAX_KEY_BYTES || f.path.split('/').some((s) => s === '..' || s === '.' || s === '')) {
        report.refused.push(f.path);
        continue;
      }
      if (f.size <= singlePutMax) {
        files.push({ path: f.path, size: f.size, url: await store.presign('PUT', bucket, key, UPLOAD_URL_SECONDS) });
        continue;
      }
      const uploadId = await store.startMultipart(bucket, key);
      multipart.set(f.path, { key, uploadId });
      const parts: { url: string; size: number }[] = [];
      for (let at = 0, n = 1; at < f.size; at += partSize, n++) {
        parts.push({ url: await store.presignPart(bucket, key, uploadId, n, UPLOAD_URL_SECONDS), size: Math.min(partSize, f.size - at) });
      }
      files.push({ path: f.path, size: f.size, parts });
    }
    const filesTotal = files.length;
    const bytesTotal = files.reduce((n, f) => n + f.size, 0);
    onProgress({ step: 'upload', files: 0, filesTotal, bytes: 0, bytesTotal, done: false });
    const completions: Promise<void>[] = [];
    let end: { files: number; bytes: number } = { files: 0, bytes: 0 };
    try {
      await agent.run(
        { command: 'upload', input: { root, uid: CONTAINER_UID, files } },
        (m) => {
          if (m.type === 'progress') onProgress({ step: 'upload', files: m.files, filesTotal, bytes: m.bytes, bytesTotal, done: false });
          else if (m.type === 'refused') report.refused.push(m.path);
          else if (m.type === 'parts') {
            const mp = multipart.get(m.path);
            if (mp) {
              multipart.delete(m.path);
              completions.push(store.completeMultipart(bucket, mp.key, mp.uploadId, m.etags));
            }
          } else if (m.type === 'end') end = { files: m.files ?? 0, bytes: m.bytes ?? 0 };
        },
        options.signal,
      );
    } catch (err) {
      await Promise.allSettled(completions);
      throw transferError(err, 'output');
    }
    await Promise.all(completions);
    report.files = end.files;
    report.bytes = end.bytes;
    const refused = new Set(report.refused);
    report.sent = found.filter((f) => !refused.has(f.path));
    onProgress({ step: 'upload', files: end.files, filesTotal, bytes: end.bytes, bytesTotal, done: true });
    return report;
  } finally {
    // Multipart uploads that never completed hold their parts on the store until aborted.
    for (const mp of multipart.values()) await store.abortMultipart(bucket, mp.key, mp.uploadId);
  }
}
