import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.js';
import { ObjectStoreError, StoreUnavailableError } from '../../src/storage/object-store.js';
import { S3ObjectStore, toStoreError } from '../../src/storage/s3-object-store.js';
import { catchError } from './object-store-contract.js';

describe('ObjectStoreError', () => {
  it('reports a store nobody listens on as unavailable, naming the store, the cause, the operation and target', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as net.AddressInfo;
    await new Promise((r) => s.close(r));
    const endpoint = `http://127.0.0.1:${port}`;
    const store = new S3ObjectStore(createS3Client({ endpoint, region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' }));
    const e = await catchError(store.getStream('demo', 'data/a.csv'));
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect(e).toMatchObject({ code: 'Unreachable', kind: 'unavailable', endpoint, notFound: false, denied: false });
    expect(e.message).toBe(
      `the object store at ${endpoint} is unavailable: connect ECONNREFUSED 127.0.0.1:${port} (GetObject s3://demo/data/a.csv)`,
    );
    expect((await catchError(store.ping())).message).toBe(
      `the object store at ${endpoint} is unavailable: connect ECONNREFUSED 127.0.0.1:${port} (ListBuckets)`,
    );
  });

  it('gives up on a store that accepts connections but never answers, as unavailable', { timeout: 30_000 }, async () => {
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    try {
      const store = new S3ObjectStore(createS3Client({ endpoint, region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' }), {
        callTimeoutMs: 300,
      });
      for (const call of [() => store.bucketRegion('jobs'), () => store.listFolder('jobs', 'code/'), () => store.ping()]) {
        const e = await catchError(call());
        expect(e).toBeInstanceOf(StoreUnavailableError);
        expect(e.message).toMatch(new RegExp(`^the object store at ${endpoint} is unavailable: no answer within 300 ms`));
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => hung.close(r));
    }
  });

  it('makes a 5xx of the store unavailable, keeping its code and status', () => {
    const svc = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const e = toStoreError('ListObjectsV2', 'b', 'p/', svc, 'http://store:9000');
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect(e).toMatchObject({ code: 'SlowDown', httpStatus: 503, kind: 'unavailable' });
    expect(e.message).toBe(
      'the object store at http://store:9000 is unavailable: SlowDown: Please reduce your request rate. (HTTP 503) (ListObjectsV2 s3://b/p/)',
    );
    const bodiless = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 502 } });
    expect(toStoreError('HeadBucket', 'b', undefined, bodiless, 'http://store:9000').message).toBe(
      'the object store at http://store:9000 is unavailable: HTTP502 (HTTP 502) (HeadBucket s3://b/)',
    );
  });

  it('keeps the store code and status of service errors, and names bodiless ones after the status', () => {
    const svc = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const e = toStoreError('PutObject', 'b', 'k', svc);
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect(e).not.toBeInstanceOf(StoreUnavailableError);
    expect(e).toMatchObject({
      code: 'AccessDenied',
      kind: 'denied',
      denied: true,
      notFound: false,
      httpStatus: 403,
      bucket: 'b',
      key: 'k',
    });
    expect(e.message).toBe('PutObject s3://b/k: AccessDenied: Access Denied (HTTP 403)');
    expect(e.cause).toBe(svc);

    const head = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 404 } });
    expect(toStoreError('HeadObject', 'b', 'k', head).message).toBe('HeadObject s3://b/k: NotFound (HTTP 404)');
    expect(toStoreError('X', 'b', 'k', e)).toBe(e);
  });
});
