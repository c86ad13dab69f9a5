import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { startSwift, type SwiftS3 } from '../support/swift.js';
import { catchError, describeObjectStore, readText } from './object-store-contract.js';

describeObjectStore('OpenStack Swift', () => startSwift());

describe('Swift: what the embedded store cannot do', () => {
  let swift: SwiftS3;
  let store: S3ObjectStore;

  beforeAll(async () => {
    swift = await startSwift();
    store = new S3ObjectStore(createS3Client(swift));
    await store.createBucket('longkeys');
  });
  afterAll(async () => {
    await swift?.stop();
  });

  it('round-trips a key whose name is 300 characters', async () => {
    const key = `data/${'x'.repeat(300)}`;
    await store.upload('longkeys', key, 'long name');
    const listed = [];
    for await (const o of store.list('longkeys', 'data/')) listed.push(o.key);
    expect(listed).toEqual([key]);
    expect((await store.listFolder('longkeys', 'data/')).objects.map((o) => o.key)).toEqual([key]);
    expect(await readText(store, 'longkeys', key)).toBe('long name');
  });

  it('refuses a wrong secret with a denied ObjectStoreError', async () => {
    const wrong = new S3ObjectStore(createS3Client({ ...swift, secretAccessKey: 'not-the-secret' }));
    const e = await catchError(wrong.listFolder('longkeys', 'data/'));
    expect(['SignatureDoesNotMatch', 'AccessDenied']).toContain(e.code);
    expect(e.denied).toBe(true);
    expect(e.message).toMatch(/^ListObjectsV2 s3:\/\/longkeys\/data\/: (SignatureDoesNotMatch|AccessDenied)/);
    expect((await catchError(wrong.ping())).denied).toBe(true);
  });
});
