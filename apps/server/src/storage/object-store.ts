import type { Readable } from 'node:stream';

/** One object as listed by the store. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
}

/**
 * The object-storage port. The domain (staging, output upload, health) talks only to this;
 * `s3-object-store.ts` implements it with @aws-sdk/client-s3 for every endpoint, the embedded
 * one included, so the default and production take the same code path.
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
}
