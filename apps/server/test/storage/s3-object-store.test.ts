import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.js';
import { ObjectStoreError, S3ObjectStore, toStoreError } from '../../src/storage/s3-object-store.js';
import { catchError } from './object-store-contract.js';

describe('ObjectStoreError', () => {
  it('reports a store nobody listens on as Unreachable, naming the operation and target', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as net.AddressInfo;
    await new Promise((r) => s.close(r));
    const store = new S3ObjectStore(
      createS3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' }),
    );
    const e = await catchError(store.getStream('demo', 'data/a.csv'));
    expect(e.code).toBe('Unreachable');
    expect(e.message).toMatch(/^GetObject s3:\/\/demo\/data\/a\.csv: Unreachable: ECONNREFUSED/);
    expect((await catchError(store.ping())).message).toMatch(/^ListBuckets: Unreachable/);
  });

  it('keeps the store code and status of service errors, and names bodiless ones after the status', () => {
    const svc = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const e = toStoreError('PutObject', 'b', 'k', svc);
    expect(e).toBeInstanceOf(ObjectStoreError);
    expect(e).toMatchObject({ code: 'AccessDenied', denied: true, notFound: false, httpStatus: 403, bucket: 'b', key: 'k' });
    expect(e.message).toBe('PutObject s3://b/k: AccessDenied: Access Denied (HTTP 403)');
    expect(e.cause).toBe(svc);

    const head = Object.assign(new Error('UnknownError'), { name: 'Unknown', $metadata: { httpStatusCode: 404 } });
    expect(toStoreError('HeadObject', 'b', 'k', head).message).toBe('HeadObject s3://b/k: NotFound (HTTP 404)');
    expect(toStoreError('X', 'b', 'k', e)).toBe(e);
  });
});
