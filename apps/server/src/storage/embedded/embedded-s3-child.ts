/**
 * The embedded S3 server's own process (see embedded-s3.ts, which starts and supervises it).
 *
 * It is a separate process because s3rver keeps each object as a file named after the key's last
 * segment, and a name the file system refuses has been seen to end in an unhandled stream error
 * that kills the whole process; users upload with their own tools, so no odd name (nor any other
 * failure of this fake) may take the console down with it. The guard below refuses the names we
 * know about; the supervisor restarts this process for whatever else kills it.
 *
 * Configuration comes through the environment (not argv, which every local user can read):
 * TC_EMBEDDED_S3_PORT, TC_EMBEDDED_S3_DIR, TC_EMBEDDED_S3_ACCESS_KEY_ID, TC_EMBEDDED_S3_SECRET_ACCESS_KEY.
 * Reports `{ type: 'listening', port }` over the IPC channel once the socket is bound.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { listBucketFolder, type ListOptions } from './s3rver-listing.js';

interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, string | string[] | undefined>;
  params: { bucket?: string; key?: string };
  status: number;
  body: unknown;
}
type Next = () => Promise<void>;
type Middleware = (ctx: KoaContext, next: Next) => Promise<void>;

interface S3rverInstance {
  /** Koa's middleware list. */
  middleware: Middleware[];
  run(): Promise<unknown>;
  close(): Promise<void>;
  httpServer?: Server;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  vhostBuckets: boolean;
  allowMismatchedSignatures: boolean;
}
type S3rverClass = new (options: S3rverOptions) => S3rverInstance;
interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}
interface FilesystemStoreProto {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putPart(bucket: string, uploadId: unknown, partNumber: unknown, content: unknown): Promise<unknown>;
  putObjectMultipart(bucket: string, uploadId: unknown, parts: unknown): Promise<unknown>;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  listObjects(bucket: string, options: ListOptions): Promise<{ objects: unknown[]; commonPrefixes: string[]; isTruncated: boolean }>;
}
type S3ObjectClass = new (bucket: string, key: string, content: null, metadata: Record<string, unknown>) => unknown;
type S3ErrorClass = new (code: string, message: string, detail?: Record<string, string>) => Error;

/** s3rver's file names are `<segment>._S3rver_<resource>`; the longest resource name is this. */
const LONGEST_SUFFIX = '._S3rver_metadata.json';
const NAME_MAX = 255;
const LAST_SEGMENT_MAX = NAME_MAX - Buffer.byteLength(LONGEST_SUFFIX);

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; this file is started by embedded-s3.ts`);
  return v;
}

const require = createRequire(import.meta.url);
const authPath = require.resolve('@20minutes/s3rver/lib/middleware/authentication.js');
const makeAuthentication = require(authPath) as () => Middleware;

/*
 * s3rver rebuilds the canonical URI of a bucket-level request as `/bucket`, while SigV4 clients
 * sign the path they send, `/bucket/` (the AWS SDK does for ListObjectsV2, CreateBucket,
 * GetBucketLocation...), so every such call fails with SignatureDoesNotMatch. Rather than turning
 * signature checks off (allowMismatchedSignatures), let the check see the trailing slash the
 * client signed. routes.js builds its middleware when it is loaded, so the replacement has to be
 * in the module cache before s3rver is required.
 */
const cached = require.cache[authPath];
if (!cached) throw new Error(`s3rver's authentication module was not loaded from ${authPath}`);
cached.exports = (): Middleware => {
  const authenticate = makeAuthentication();
  return async (ctx, next) => {
    const { bucket, key } = ctx.params;
    const signedWithSlash = bucket !== undefined && !key && ctx.path.endsWith('/') && ctx.path !== '/';
    if (!signedWithSlash) return authenticate(ctx, next);
    ctx.params.bucket = `${bucket}/`;
    let restored = false;
    const restore = () => {
      if (!restored) ctx.params.bucket = bucket;
      restored = true;
    };
    try {
      await authenticate(ctx, () => {
        restore();
        return next();
      });
    } finally {
      restore();
    }
  };
};

const S3rver = require('@20minutes/s3rver') as S3rverClass;
const S3Error = require('@20minutes/s3rver/lib/models/error.js') as S3ErrorClass;
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: AwsAccount };
const FilesystemStore = require('@20minutes/s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStoreProto };
const S3Object = require('@20minutes/s3rver/lib/models/object.js') as S3ObjectClass;

/*
 * s3rver joins bucket names, keys, upload ids and part numbers straight into file paths, so a
 * `..` part in any of them reads, writes or deletes files outside the data folder (or in another
 * bucket's folder) as the console's user. The request is checked before the router (see confine);
 * the store checks again here, because some names arrive in request bodies (DeleteObjects, form
 * POST) or stored configuration that no request check sees.
 */
const store = FilesystemStore.prototype;
const bucketPathOf = store.getBucketPath;
const resourcePathOf = store.getResourcePath;
const putPart = store.putPart;
const putObjectMultipart = store.putObjectMultipart;
store.getBucketPath = function getBucketPath(this: FilesystemStoreProto, bucket) {
  refuseBucket(bucket);
  return bucketPathOf.call(this, bucket);
};
store.getResourcePath = function getResourcePath(this: FilesystemStoreProto, bucket, key, resource) {
  const bucketPath = this.getBucketPath(bucket);
  if (typeof key === 'string') refuseKey(key, 'key');
  const resourcePath = resourcePathOf.call(this, bucket, key, resource);
  // Whatever the rules above miss (a platform's other separators), the path itself must stay in.
  const rel = path.relative(bucketPath, resourcePath);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) throw keyError(String(key), 'key');
  return resourcePath;
};
store.putPart = function (this: FilesystemStoreProto, bucket, uploadId, partNumber, content) {
  refuseUploadId(uploadId);
  refusePartNumber(partNumber);
  return putPart.call(this, bucket, uploadId, partNumber, content);
};
store.putObjectMultipart = function (this: FilesystemStoreProto, bucket, uploadId, parts) {
  refuseUploadId(uploadId);
  return putObjectMultipart.call(this, bucket, uploadId, parts);
};

// s3rver's own listing loses keys across pages and hides folders that hold only folders:
// see s3rver-listing.ts.
FilesystemStore.prototype.listObjects = async function listObjects(this: FilesystemStoreProto, bucket, options) {
  const { keys, commonPrefixes, isTruncated } = await listBucketFolder(this.getBucketPath(bucket), options);
  const objects: unknown[] = [];
  for (const key of keys) {
    try {
      objects.push(new S3Object(bucket, key, null, await this.getMetadata(bucket, key)));
    } catch (err) {
      // Deleted while we listed.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return { objects, commonPrefixes, isTruncated };
};

function header(ctx: KoaContext, name: string): string | undefined {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Runs before the router. Requests without credentials would otherwise be served as if signed
 * (s3rver has no ACLs). A key whose file name the file system refuses makes s3rver answer 500
 * (retried by every client), and a last part of 234-240 bytes even leaves an object file without
 * its metadata behind, after which every listing of the bucket answers 500: refuse such keys
 * the way S3 itself would, before s3rver touches the disk.
 */
const guard: Middleware = async (ctx, next) => {
  const signed = header(ctx, 'authorization') !== undefined || 'X-Amz-Algorithm' in ctx.query || 'Signature' in ctx.query;
  if (!signed && ctx.method !== 'OPTIONS') {
    throw new S3Error('AccessDenied', 'Anonymous access is not allowed: sign the request with the keys of the embedded store');
  }
  const tooLong = unstorablePart(ctx.path);
  if (tooLong === undefined) {
    await next();
    if (typeof ctx.body === 'string' && ctx.body.startsWith('<?xml')) ctx.body = undoDoubleEscape(ctx.body);
    return;
  }
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    throw new S3Error('NoSuchKey', 'The specified key does not exist.');
  }
  if (ctx.method === 'DELETE') {
    // S3 answers a delete of a missing key with success.
    ctx.status = 204;
    return;
  }
  throw new S3Error(
    'KeyTooLongError',
    `The embedded store keeps each object as a file, so the last part of a key may be at most ${LAST_SEGMENT_MAX} bytes ` +
      `and every other part at most ${NAME_MAX}; this key has a part of ${Buffer.byteLength(tooLong)} bytes. ` +
      'Use a real S3 store (S3_ENDPOINT) for longer names.',
  );
};

/**
 * Runs after the vhost middleware (which may take the bucket from the Host header) and before the
 * router, so before s3rver touches the disk for this request: refuses bucket names, keys, copy
 * sources, upload ids and part numbers that would name a file outside the bucket's folder. Names
 * are decoded here exactly as s3rver will decode them.
 */
const confine: Middleware = async (ctx, next) => {
  const m = /^\/([^/]+)(?:\/(.*))?$/.exec(ctx.path);
  if (m) {
    refuseBucket(routerDecode(m[1]!));
    if (m[2]) refuseKey(routerDecode(m[2]), 'key');
  }
  // s3rver also takes x-amz-* headers from the query string (its authentication step copies them).
  const sources = Object.entries(ctx.query).filter(([k]) => k.toLowerCase() === COPY_SOURCE);
  if (ctx.headers[COPY_SOURCE] !== undefined) sources.push([COPY_SOURCE, ctx.headers[COPY_SOURCE]]);
  for (const [, value] of sources) refuseCopySource(value);
  if ('uploadId' in ctx.query) refuseUploadId(ctx.query.uploadId);
  if ('partNumber' in ctx.query) refusePartNumber(ctx.query.partNumber);
  await next();
};

const COPY_SOURCE = 'x-amz-copy-source';
/** s3rver makes its upload ids with crypto.randomBytes(16).toString('hex'). */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** S3's part numbers: 1 to 10,000. */
const PART_NUMBER = /^(?:[1-9]\d{0,3}|10000)$/;

/** koa-router's decoding of a path parameter, which is what s3rver's handlers receive. */
function routerDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** A bucket is one folder directly inside the data folder. */
function refuseBucket(bucket: string): void {
  if (bucket === '' || bucket === '.' || bucket === '..' || /[/\\\0]/.test(bucket)) {
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
}

function refuseKey(key: string, field: string): void {
  if (key.includes('\0') || key.split('/').some((part) => part === '.' || part === '..')) throw keyError(key, field);
}

function keyError(key: string, field: string): Error {
  return new S3Error(
    'InvalidArgument',
    `The embedded store keeps each object as a file in its bucket's folder, so a key may not have a "." or ".." part ` +
      'nor a NUL character. Use a real S3 store (S3_ENDPOINT) for such names.',
    { ArgumentName: field, ArgumentValue: key },
  );
}

/** Parsed the way s3rver's copy handlers parse it: decodeURI, then `bucket/key` after an optional `/`. */
function refuseCopySource(value: unknown): void {
  const invalid = (why: string) =>
    new S3Error('InvalidArgument', `x-amz-copy-source ${why}`, { ArgumentName: COPY_SOURCE, ArgumentValue: String(value) });
  if (typeof value !== 'string') throw invalid('must be given once');
  let decoded: string;
  try {
    decoded = decodeURI(value);
  } catch {
    throw invalid('is not correctly percent-encoded');
  }
  const [bucket = '', ...rest] = (decoded.startsWith('/') ? decoded.slice(1) : decoded).split('/');
  try {
    refuseBucket(bucket);
  } catch {
    throw invalid('names an invalid bucket');
  }
  refuseKey(rest.join('/'), COPY_SOURCE);
}

function refuseUploadId(uploadId: unknown): void {
  if (typeof uploadId !== 'string' || !UPLOAD_ID.test(uploadId)) {
    throw new S3Error('NoSuchUpload', 'The specified multipart upload does not exist.', { UploadId: String(uploadId) });
  }
}

function refusePartNumber(partNumber: unknown): void {
  if (typeof partNumber !== 'string' || !PART_NUMBER.test(partNumber)) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.', {
      ArgumentName: 'partNumber',
      ArgumentValue: String(partNumber),
    });
  }
}

/**
 * s3rver escapes every text value for XML twice (he.escape, then its XML builder), so a listing
 * shows `R&D.csv` as `R&amp;D.csv` and a client then asks for a key that does not exist. Every
 * `&` of the first escaping became `&amp;`: turning `&amp;` back into `&` wherever it starts an
 * entity leaves the first escaping, which is the correct one.
 */
function undoDoubleEscape(xml: string): string {
  return xml.replace(/&amp;(?=(?:amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);)/g, '&');
}

/** The first part of the key in this path (`/bucket/key...`) that cannot be a file name, if any. */
function unstorablePart(urlPath: string): string | undefined {
  const parts = urlPath
    .split('/')
    .slice(2)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return parts.find((s, i) => Buffer.byteLength(s) > (i === parts.length - 1 ? LAST_SEGMENT_MAX : NAME_MAX));
}

async function main(): Promise<void> {
  const port = Number(env('TC_EMBEDDED_S3_PORT'));
  const directory = env('TC_EMBEDDED_S3_DIR');
  const accessKeyId = env('TC_EMBEDDED_S3_ACCESS_KEY_ID');
  const secretAccessKey = env('TC_EMBEDDED_S3_SECRET_ACCESS_KEY');
  // Keep the keys out of anything this process might start or print.
  delete process.env.TC_EMBEDDED_S3_SECRET_ACCESS_KEY;

  mkdirSync(directory, { recursive: true });
  // The well-known S3RVER/S3RVER pair would open the store to anyone who has read s3rver's README.
  DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

  const server = new S3rver({
    address: env('TC_EMBEDDED_S3_HOST'),
    port,
    directory,
    silent: true,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
  });
  // The constructor has already mounted the router; use() would put the guard behind it.
  server.middleware.unshift(guard);
  const router = server.middleware.findIndex((m) => 'router' in m);
  if (router === -1) throw new Error("s3rver's router was not found among its middleware");
  server.middleware.splice(router, 0, confine);
  server.on('error', (err) => {
    const status = (err as Error & { status?: number }).status ?? 500;
    if (status >= 500) process.stderr.write(`embedded S3: ${err.stack ?? err.message}\n`);
  });
  await server.run();

  process.send?.({ type: 'listening', port });

  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    server.httpServer?.closeAllConnections();
    server.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', close);
  // Ctrl-C in a terminal reaches the whole process group; the console decides when this server
  // stops (it sends SIGTERM), otherwise the supervisor would restart it in the middle of shutdown.
  process.on('SIGINT', () => {});
  // The console went away without stopping us (killed, crashed): do not outlive it.
  process.on('disconnect', close);
}

main().catch((err: unknown) => {
  process.stderr.write(`embedded S3 could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
