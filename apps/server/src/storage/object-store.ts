import type { Readable } from 'node:stream';

/** One object as listed by the store. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
}

/**
 * What a store failure means for the caller: the thing is not there, these credentials may not
 * use it, the store itself is down or failing (try again later), or the request failed otherwise.
 */
export type StoreFailureKind = 'not_found' | 'denied' | 'unavailable' | 'failed';

/**
 * Every failure of the object store, with a message that says what was attempted on what, e.g.
 * "GetObject s3://demo/data/a.csv: NoSuchKey: The specified key does not exist. (HTTP 404)".
 * `code` is the store's own code (NoSuchBucket, AccessDenied...), for messages and logs; callers
 * decide on `kind`, which every adapter fills in the same way.
 */
export class ObjectStoreError extends Error {
  override readonly name: string = 'ObjectStoreError';

  constructor(
    readonly kind: StoreFailureKind,
    readonly operation: string,
    readonly bucket: string | undefined,
    readonly key: string | undefined,
    readonly code: string,
    readonly storeMessage: string,
    readonly httpStatus: number | undefined,
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? `${operation}${target(bucket, key)}: ${code}${detail(code, storeMessage)}${status(httpStatus)}`, options);
  }

  /** The store answered and refused the credentials or the permission (403-style). */
  get denied(): boolean {
    return this.kind === 'denied';
  }

  /** What the store does not have: a missing bucket or key. */
  get notFound(): boolean {
    return this.kind === 'not_found';
  }
}

/**
 * The store could not serve the request at all: nothing answered (refused, unresolvable,
 * timed out) or it failed itself (5xx). Not the request's fault, so the API answers 503, naming
 * the store and the cause, e.g. "the object store at http://127.0.0.1:9000 is unavailable:
 * connect ECONNREFUSED 127.0.0.1:9000 (ListObjectsV2 s3://jobs/code/)".
 */
export class StoreUnavailableError extends ObjectStoreError {
  override readonly name: string = 'StoreUnavailableError';

  constructor(
    /** The store's address as configured (its endpoint URL). */
    readonly endpoint: string,
    /** Why, in a few words: the network error, the timeout or the store's 5xx answer. */
    readonly reason: string,
    operation: string,
    bucket: string | undefined,
    key: string | undefined,
    code: string,
    httpStatus: number | undefined,
    options?: { cause?: unknown },
  ) {
    super('unavailable', operation, bucket, key, code, reason, httpStatus, {
      ...options,
      message: `the object store at ${endpoint} is unavailable: ${reason} (${operation}${target(bucket, key)})`,
    });
  }
}

function target(bucket: string | undefined, key: string | undefined): string {
  return bucket === undefined ? '' : ` s3://${bucket}/${key ?? ''}`;
}

function detail(code: string, storeMessage: string): string {
  return storeMessage && storeMessage !== code ? `: ${storeMessage}` : '';
}

function status(httpStatus: number | undefined): string {
  return httpStatus ? ` (HTTP ${httpStatus})` : '';
}

/**
 * The object-storage port. The domain (staging, output upload, health) talks only to this;
 * `s3-object-store.ts` implements it with @aws-sdk/client-s3 for every endpoint, the embedded
 * one included, so the default and production take the same code path. Every call fails with an
 * ObjectStoreError (a StoreUnavailableError when the store itself is down), never with an SDK
 * error, so callers never look at an adapter's types.
 */
export interface ObjectStore {
  /** Cheap round trip that proves the store answers and the credentials are accepted. */
  ping(): Promise<void>;
  listBuckets(): Promise<string[]>;
  /** Creates the bucket; succeeds when it already exists and is ours. */
  createBucket(bucket: string): Promise<void>;
  /** The bucket's region as S3 reports it ('' from GetBucketLocation means us-east-1). */
  bucketRegion(bucket: string): Promise<string>;
  /** Every object under the prefix, recursively, paginated lazily. */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  /** One level below the prefix: sub-folders (ending in '/') and objects. */
  listFolder(bucket: string, prefix: string): Promise<{ folders: string[]; objects: ObjectInfo[] }>;
  /**
   * The object's body as a stream; nothing is buffered whole. With `expect`, an object whose
   * ETag differs fails (code ObjectChanged), so a pinned snapshot is never staged changed.
   */
  getStream(bucket: string, key: string, expect?: { etag: string }): Promise<Readable>;
  /** Deletes the object; succeeds when it is already gone. */
  deleteObject(bucket: string, key: string): Promise<void>;
  /** Streams the body up (multipart for large bodies); size may be unknown. */
  upload(bucket: string, key: string, body: Readable | Buffer | string, contentType?: string): Promise<void>;
  /**
   * A URL that lets whoever holds it do exactly this one request (GET or PUT of this key, or
   * with `query`, one part of a multipart upload) until it expires; what the node agent gets
   * instead of credentials. Signing is local: no request goes to the store.
   */
  presign(method: 'GET' | 'PUT', bucket: string, key: string, expiresSeconds: number, query?: Record<string, string>): Promise<string>;
  /** Multipart uploads driven by presigned part URLs (files too large for one PUT). */
  startMultipart(bucket: string, key: string): Promise<string>;
  presignPart(bucket: string, key: string, uploadId: string, partNumber: number, expiresSeconds: number): Promise<string>;
  completeMultipart(bucket: string, key: string, uploadId: string, etags: string[]): Promise<void>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
}
