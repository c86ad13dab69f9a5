import type { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import type { PinnedFile } from './dataset-repository.js';

/**
 * The object store as a dataset version saw it: listing its folder yields the pinned files (not
 * what the folder holds now), and reading one fails unless it still has the pinned ETag. Staging
 * goes through this unchanged, so a job on a version gets exactly that snapshot or fails naming
 * the object that changed or vanished.
 */
export class SnapshotStore implements ObjectStore {
  /** ETags of listed files not read yet; staging reads each right after (or a few after) listing it. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly files: () => AsyncIterable<PinnedFile>,
  ) {}

  ping(): Promise<void> {
    return this.inner.ping();
  }
  listBuckets(): Promise<string[]> {
    return this.inner.listBuckets();
  }
  createBucket(bucket: string): Promise<void> {
    return this.inner.createBucket(bucket);
  }
  bucketRegion(bucket: string): Promise<string> {
    return this.inner.bucketRegion(bucket);
  }
  listFolder(bucket: string, prefix: string): Promise<{ folders: string[]; objects: ObjectInfo[] }> {
    return this.inner.listFolder(bucket, prefix);
  }
  deleteObject(bucket: string, key: string): Promise<void> {
    return this.inner.deleteObject(bucket, key);
  }
  upload(bucket: string, key: string, body: Readable | Buffer | string, contentType?: string): Promise<void> {
    return this.inner.upload(bucket, key, body, contentType);
  }

  // The agent checks each pinned file's ETag itself (the listing hands it over with the URL).
  presign(method: 'GET' | 'PUT', bucket: string, key: string, expiresSeconds: number, query?: Record<string, string>): Promise<string> {
    return this.inner.presign(method, bucket, key, expiresSeconds, query);
  }
  startMultipart(bucket: string, key: string): Promise<string> {
    return this.inner.startMultipart(bucket, key);
  }
  presignPart(bucket: string, key: string, uploadId: string, partNumber: number, expiresSeconds: number): Promise<string> {
    return this.inner.presignPart(bucket, key, uploadId, partNumber, expiresSeconds);
  }
  completeMultipart(bucket: string, key: string, uploadId: string, etags: string[]): Promise<void> {
    return this.inner.completeMultipart(bucket, key, uploadId, etags);
  }
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.inner.abortMultipart(bucket, key, uploadId);
  }

  async *list(bucket: string, prefix: string): AsyncGenerator<ObjectInfo> {
    if (bucket !== this.bucket || !prefix.startsWith(this.prefix)) {
      throw new Error(`the snapshot of s3://${this.bucket}/${this.prefix} cannot list s3://${bucket}/${prefix}`);
    }
    for await (const f of this.files()) {
      if (!f.key.startsWith(prefix)) continue;
      this.pending.set(f.key, f.etag);
      yield { key: f.key, size: f.size, etag: f.etag };
    }
  }

  getStream(bucket: string, key: string): Promise<Readable> {
    const etag = bucket === this.bucket ? this.pending.get(key) : undefined;
    if (etag === undefined) return Promise.reject(new Error(`s3://${bucket}/${key} is not part of the dataset version`));
    this.pending.delete(key);
    return this.inner.getStream(bucket, key, { etag });
  }
}
