import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  CreateMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  type _Object,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ObjectStoreError, StoreUnavailableError, type ObjectInfo, type ObjectStore, type StoreFailureKind } from './object-store.js';

/**
 * The store's own error code (NoSuchBucket, NoSuchKey, AccessDenied, SignatureDoesNotMatch,
 * InvalidAccessKeyId...), or Unreachable when no answer came back at all.
 */
export type ObjectStoreErrorCode = 'NoSuchBucket' | 'NoSuchKey' | 'AccessDenied' | 'Unreachable' | (string & {});

/** Codes meaning the store answered but refused these credentials or this request. */
const DENIED = new Set([
  'AccessDenied',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'InvalidToken',
  'ExpiredToken',
  'AllAccessDisabled',
]);

const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound']);

/** Errors with these codes (from Node or the SDK) mean no HTTP answer was received. */
const TRANSPORT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

export interface S3ObjectStoreOptions {
  /** MaxKeys per listing request; stores cap it at 1000. Smaller values are for tests. */
  pageSize?: number;
  /**
   * How long each attempt of a call without a streamed body (listing, bucket location, head,
   * delete, the headers of a download) may wait for the store's answer; the client makes 3
   * attempts. Smaller values are for tests.
   */
  callTimeoutMs?: number;
}

/**
 * A store that accepts connections but never answers must fail these calls (and the API request
 * waiting on them, with a 503) in bounded time. A page of 1000 keys takes well under a second on
 * every store tried; 10 s leaves room for a busy one.
 */
const CALL_TIMEOUT_MS = 10_000;

const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/** The ObjectStore port over any S3-compatible endpoint (see s3-client.ts for the client). */
export class S3ObjectStore implements ObjectStore {
  private readonly pageSize: number;
  /** Per-attempt deadline for the answer's headers; streamed bodies are bounded by the client's idle timeout. */
  private readonly bounded: { requestTimeout: number };
  private endpoint: string | undefined;

  constructor(
    readonly client: S3Client,
    options: S3ObjectStoreOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 1000;
    this.bounded = { requestTimeout: options.callTimeoutMs ?? CALL_TIMEOUT_MS };
  }

  async ping(): Promise<void> {
    await this.call('ListBuckets', undefined, undefined, () => this.client.send(new ListBucketsCommand({}), this.bounded));
  }

  async listBuckets(): Promise<string[]> {
    const out = await this.call('ListBuckets', undefined, undefined, () => this.client.send(new ListBucketsCommand({}), this.bounded));
    return (out.Buckets ?? []).flatMap((b) => (b.Name ? [b.Name] : []));
  }

  async createBucket(bucket: string): Promise<void> {
    const region = await this.client.config.region();
    try {
      await this.call('CreateBucket', bucket, undefined, () =>
        this.client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // Outside us-east-1, AWS and most stores want the region repeated in the body.
            ...(region && region !== 'us-east-1'
              ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
              : {}),
          }),
          this.bounded,
        ),
      );
    } catch (err) {
      if (!(err instanceof ObjectStoreError)) throw err;
      if (err.code === 'BucketAlreadyOwnedByYou') return;
      // Some stores answer BucketAlreadyExists for their owner's own bucket too (AWS outside
      // us-east-1 did, as do some S3 gateways): it is ours if these credentials can use it.
      if (err.code === 'BucketAlreadyExists' && (await this.canAccess(bucket))) return;
      throw err;
    }
  }

  async bucketRegion(bucket: string): Promise<string> {
    const out = await this.call('GetBucketLocation', bucket, undefined, () =>
      this.client.send(new GetBucketLocationCommand({ Bucket: bucket }), this.bounded),
    );
    const location: string = out.LocationConstraint ?? '';
    if (location === '') return 'us-east-1';
    // The legacy name S3 still reports for buckets made in Ireland long ago.
    if (location === 'EU') return 'eu-west-1';
    return location;
  }

  async *list(bucket: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let token: string | undefined;
    let startAfter: string | undefined;
    for (;;) {
      const out = await this.call('ListObjectsV2', bucket, prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: this.pageSize,
            ContinuationToken: token,
            StartAfter: startAfter,
          }),
          this.bounded,
        ),
      );
      const contents = out.Contents ?? [];
      for (const obj of contents) {
        const info = toInfo(obj);
        if (info) yield info;
      }
      if (!out.IsTruncated) return;
      token = out.NextContinuationToken;
      startAfter = undefined;
      if (!token) {
        // A truncated page without a token: go on after its last key rather than loop or stop early.
        const last = contents.at(-1)?.Key;
        if (!last) throw this.fail('ListObjectsV2', bucket, prefix, 'InvalidResponse', 'the page was truncated but has no continuation');
        startAfter = last;
      }
    }
  }

  async listFolder(bucket: string, prefix: string): Promise<{ folders: string[]; objects: ObjectInfo[] }> {
    const folders = new Set<string>();
    const objects: ObjectInfo[] = [];
    let token: string | undefined;
    for (;;) {
      const out = await this.call('ListObjectsV2', bucket, prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', MaxKeys: this.pageSize, ContinuationToken: token }),
          this.bounded,
        ),
      );
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) folders.add(p.Prefix);
      for (const obj of out.Contents ?? []) {
        const info = toInfo(obj);
        // The folder's own marker object (made by consoles' "create folder") is not a file in it.
        if (info && !(info.key === prefix && prefix.endsWith('/'))) objects.push(info);
      }
      if (!out.IsTruncated) break;
      token = out.NextContinuationToken;
      if (!token) throw this.fail('ListObjectsV2', bucket, prefix, 'InvalidResponse', 'the page was truncated but has no continuation');
    }
    return { folders: [...folders], objects };
  }

  async getStream(bucket: string, key: string, expect?: { etag: string }): Promise<Readable> {
    // The deadline ends when the headers arrive; the body may then stream for as long as it flows.
    const out = await this.call('GetObject', bucket, key, () =>
      this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), this.bounded),
    );
    const body: unknown = out.Body;
    if (!(body instanceof Readable)) throw this.fail('GetObject', bucket, key, 'InvalidResponse', 'the response has no readable body');
    // Compared here rather than sent as If-Match, which not every S3-compatible store honours.
    if (expect && unquote(out.ETag ?? '') !== unquote(expect.etag)) {
      body.destroy();
      throw this.fail(
        'GetObject',
        bucket,
        key,
        'ObjectChanged',
        `the object changed (ETag ${unquote(out.ETag ?? '')}, expected ${unquote(expect.etag)})`,
      );
    }
    return body;
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.call('DeleteObject', bucket, key, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), this.bounded),
    );
  }

  async upload(bucket: string, key: string, body: Readable | Buffer | string, contentType?: string): Promise<void> {
    if (!(body instanceof Readable)) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await this.call('PutObject', bucket, key, () =>
        this.client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: contentType }),
        ),
      );
      return;
    }
    // PutObject cannot take a stream of unknown length; Upload buffers parts and goes multipart
    // past the first part (a single PutObject for smaller bodies).
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      queueSize: QUEUE_SIZE,
      partSize: PART_SIZE,
      leavePartsOnError: false,
    });
    try {
      await this.call('PutObject', bucket, key, () => upload.done());
    } finally {
      // On failure the source may be left half read; release its file handle or socket.
      if (!body.destroyed && !body.readableEnded) body.destroy();
    }
  }

  async presign(
    method: 'GET' | 'PUT',
    bucket: string,
    key: string,
    expiresSeconds: number,
    query: Record<string, string> = {},
  ): Promise<string> {
    const signer = await this.signer();
    const base = new URL(await this.endpointUrl());
    const path = `${base.pathname.replace(/\/$/, '')}/${encodeSegment(bucket)}/${key.split('/').map(encodeSegment).join('/')}`;
    const signed = await signer.presign(
      {
        method,
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port ? { port: Number(base.port) } : {}),
        path,
        query,
        // Presigned URLs sign no payload: the body is whatever the holder sends (AWS's rule,
        // checked by Swift). The header is only read for the hash, not sent or hoisted.
        headers: { host: base.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      {
        expiresIn: expiresSeconds,
        unhoistableHeaders: new Set(['x-amz-content-sha256']),
        unsignableHeaders: new Set(['x-amz-content-sha256']),
      },
    );
    const qs = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v === null ? [] : [[k, v]]))
      .map(([k, v]) => `${encodeSegment(k!)}=${encodeSegment(v!)}`)
      .join('&');
    return `${base.protocol}//${base.host}${path}?${qs}`;
  }

  async startMultipart(bucket: string, key: string): Promise<string> {
    const out = await this.call('CreateMultipartUpload', bucket, key, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }), this.bounded),
    );
    if (!out.UploadId) throw this.fail('CreateMultipartUpload', bucket, key, 'InvalidResponse', 'the answer has no upload id');
    return out.UploadId;
  }

  async presignPart(bucket: string, key: string, uploadId: string, partNumber: number, expiresSeconds: number): Promise<string> {
    return this.presign('PUT', bucket, key, expiresSeconds, { partNumber: String(partNumber), uploadId });
  }

  async completeMultipart(bucket: string, key: string, uploadId: string, etags: string[]): Promise<void> {
    await this.call('CompleteMultipartUpload', bucket, key, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      ),
    );
  }

  /** Best effort: some stores (s3rver) have no abort; their parts are dropped by the store's own clean-up. */
  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.call('AbortMultipartUpload', bucket, key, () =>
      this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), this.bounded),
    ).catch(() => undefined);
  }

  /** One signer per store: it caches the day's signing key, so each URL costs two hashes. */
  private signerPromise: Promise<SignatureV4> | undefined;
  private signer(): Promise<SignatureV4> {
    this.signerPromise ??= (async () => {
      const credentials = await this.client.config.credentials();
      return new SignatureV4({
        credentials,
        region: await this.client.config.region(),
        service: 's3',
        sha256: Hash.bind(null, 'sha256'),
        // S3 signs the path as sent, segments encoded once.
        uriEscapePath: false,
      });
    })();
    return this.signerPromise;
  }

  private async canAccess(bucket: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), this.bounded);
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(operation: string, bucket: string | undefined, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(operation, bucket, key, err, await this.endpointUrl());
    }
  }

  /** The endpoint as configured, for messages that must name the store. */
  private async endpointUrl(): Promise<string> {
    if (this.endpoint === undefined) {
      const configured = await this.client.config.endpoint?.();
      if (configured) {
        const { protocol, hostname, port, path } = configured;
        this.endpoint = `${protocol}//${hostname}${port ? `:${port}` : ''}${path && path !== '/' ? path : ''}`;
      } else {
        this.endpoint = `https://s3.${await this.client.config.region()}.amazonaws.com`;
      }
    }
    return this.endpoint;
  }

  private fail(operation: string, bucket: string, key: string, code: string, message: string): ObjectStoreError {
    return new ObjectStoreError('failed', operation, bucket, key, code, message, undefined);
  }
}

function toInfo(obj: _Object): ObjectInfo | null {
  if (!obj.Key) return null;
  const info: ObjectInfo = { key: obj.Key, size: obj.Size ?? 0 };
  if (obj.ETag) info.etag = obj.ETag.replace(/^"(.*)"$/, '$1');
  if (obj.LastModified) info.lastModified = obj.LastModified;
  return info;
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
  cause?: unknown;
  errors?: unknown;
}

/**
 * Turns whatever the SDK, lib-storage or Node threw into an ObjectStoreError: no answer at all or
 * a 5xx is a StoreUnavailableError naming `endpoint`; the store's refusals keep its own code.
 */
export function toStoreError(
  operation: string,
  bucket: string | undefined,
  key: string | undefined,
  err: unknown,
  endpoint = 'the configured endpoint',
): ObjectStoreError {
  if (err instanceof ObjectStoreError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const message = messageOf(e);
  const transport = transportFailure(e);
  if (transport && !status) {
    return new StoreUnavailableError(endpoint, transport, operation, bucket, key, 'Unreachable', undefined, { cause: err });
  }
  let code = [e.Code, e.code, e.name].find((c): c is string => typeof c === 'string' && c !== '' && c !== 'Error') ?? 'Error';
  // Bodiless answers (HEAD, some proxies) carry no code: name it after the status.
  if (code === 'Unknown' || code === 'UnknownError')
    code = status === 404 ? 'NotFound' : status === 403 ? 'AccessDenied' : `HTTP${status ?? ''}`;
  const storeMessage = message === 'UnknownError' ? '' : message;
  // The store's own failure (InternalError, ServiceUnavailable, SlowDown, a proxy's 502/504),
  // left after the client's retries: not the request's fault, and it may pass.
  if (status !== undefined && status >= 500) {
    const reason = `${code}${storeMessage && storeMessage !== code ? `: ${storeMessage}` : ''} (HTTP ${status})`;
    return new StoreUnavailableError(endpoint, reason, operation, bucket, key, code, status, { cause: err });
  }
  return new ObjectStoreError(kindOf(code, status), operation, bucket, key, code, storeMessage, status, { cause: err });
}

function kindOf(code: string, status: number | undefined): StoreFailureKind {
  if (NOT_FOUND.has(code)) return 'not_found';
  if (DENIED.has(code) || status === 403) return 'denied';
  return 'failed';
}

/** Why no answer came back, in words ("connect ECONNREFUSED 127.0.0.1:9000"), or undefined when one did. */
function transportFailure(e: SdkErrorShape): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const c = cur as SdkErrorShape;
    const code = [c.code, c.name].find((v): v is string => typeof v === 'string' && TRANSPORT.has(v));
    if (code) return describeTransport(code, messageOf(c)) ?? describeTransport(code, messageOf(e)) ?? code;
    // Node's happy-eyeballs connect failures come as an AggregateError of the attempts.
    if (Array.isArray(c.errors)) {
      const inner = c.errors.map((x) => transportFailure(x as SdkErrorShape)).find(Boolean);
      if (inner) return inner;
    }
    cur = c.cause;
  }
  return undefined;
}

function messageOf(e: SdkErrorShape): string {
  return typeof e.message === 'string' ? e.message : '';
}

/** The handler's messages, without its package prefix; its request deadline said plainly. */
function describeTransport(code: string, message: string): string | undefined {
  const text = message.replace(/^@smithy\/node-http-handler - /, '').replace(/^\[(ERROR|WARN)\] /, '');
  if (!text) return undefined;
  const deadline = /exceeded the configured (\d+) ms requestTimeout/.exec(text);
  if (deadline) return `no answer within ${deadline[1]} ms (${code})`;
  return text.includes(code) ? text : `${code}: ${text}`;
}

/** RFC 3986 encoding, as SigV4 canonicalizes: encodeURIComponent leaves !'()* as they are. */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}
