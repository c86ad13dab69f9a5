import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, type S3ClientSettings } from '../../src/storage/s3-client.js';
import { ObjectStoreError } from '../../src/storage/object-store.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';

export interface RunningStore extends S3ClientSettings {
  stop(): Promise<void>;
}

/** Counts the commands a client sends, by name (e.g. ListObjectsV2Command). */
export function countCommands(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'testCountCommands' },
  );
  return counts;
}

export async function sha256Of(stream: Readable): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash: h.digest('hex'), bytes };
}

export async function readText(store: S3ObjectStore, bucket: string, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.getStream(bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function catchError(p: Promise<unknown>): Promise<ObjectStoreError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ObjectStoreError);
    return err as ObjectStoreError;
  }
  throw new Error('expected the call to fail');
}

/**
 * What every S3 store the console talks to must do through S3ObjectStore: the same tests run
 * against the embedded s3rver child and against OpenStack Swift.
 */
export function describeObjectStore(name: string, start: () => Promise<RunningStore>): void {
  describe(`S3ObjectStore against ${name}`, () => {
    let server: RunningStore;
    let store: S3ObjectStore;
    const bucket = 'contract';

    beforeAll(async () => {
      server = await start();
      store = new S3ObjectStore(createS3Client(server));
      await store.createBucket(bucket);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('creates a bucket, and creating it again succeeds', async () => {
      await store.createBucket('again');
      await store.createBucket('again');
      expect(await store.listBuckets()).toEqual(expect.arrayContaining(['again', bucket]));
      await store.ping();
    });

    it('reports the bucket region (empty LocationConstraint means us-east-1)', async () => {
      expect(await store.bucketRegion(bucket)).toBe('us-east-1');
    });

    it('uploads a 20 MiB stream of unknown length and streams it back unchanged', async () => {
      const size = 20 * 1024 * 1024;
      const sent = createHash('sha256');
      // Irregular chunk sizes, so part boundaries never line up with chunks.
      const source = Readable.from(
        (function* () {
          for (let left = size; left > 0;) {
            const chunk = randomBytes(Math.min(left, 65_536 + Math.floor(Math.random() * 900_000)));
            sent.update(chunk);
            left -= chunk.length;
            yield chunk;
          }
        })(),
      );
      await store.upload(bucket, 'big/blob.bin', source, 'application/octet-stream');
      const expected = sent.digest('hex');

      const got = await sha256Of(await store.getStream(bucket, 'big/blob.bin'));
      expect(got).toEqual({ hash: expected, bytes: size });
      const listed = [];
      for await (const o of store.list(bucket, 'big/')) listed.push(o);
      expect(listed).toEqual([expect.objectContaining({ key: 'big/blob.bin', size })]);
    });

    it('uploads Buffers and strings with PutObject', async () => {
      await store.upload(bucket, 'small/a.txt', Buffer.from('from a buffer'), 'text/plain');
      await store.upload(bucket, 'small/b.txt', 'from a string');
      expect(await readText(store, bucket, 'small/a.txt')).toBe('from a buffer');
      expect(await readText(store, bucket, 'small/b.txt')).toBe('from a string');
    });

    it('lists recursively, page by page, and only fetches pages as they are consumed', async () => {
      const keys = Array.from({ length: 11 }, (_, i) => `paged/${i % 3 === 0 ? 'sub/' : ''}k${String(i).padStart(2, '0')}.txt`).sort();
      for (const k of keys) await store.upload(bucket, k, k);
      const client = createS3Client(server);
      const counts = countCommands(client);
      const paged = new S3ObjectStore(client, { pageSize: 3 });

      const all = [];
      for await (const o of paged.list(bucket, 'paged/')) all.push(o);
      expect(all.map((o) => o.key)).toEqual(keys);
      expect(all.every((o) => o.size > 0 && typeof o.etag === 'string' && !o.etag.includes('"'))).toBe(true);
      expect(counts.get('ListObjectsV2Command')).toBe(4);

      counts.clear();
      for await (const o of paged.list(bucket, 'paged/')) {
        expect(o.key).toBe(keys[0]);
        break;
      }
      expect(counts.get('ListObjectsV2Command')).toBe(1);
    });

    it('lists in S3 key order across page boundaries (train.csv sorts before train/...)', async () => {
      const keys = [
        'order/train',
        'order/train.csv',
        'order/train/a.csv',
        'order/train/b/c.csv',
        'order/train0',
        'order/trainZ/x',
        'order/é.csv',
      ];
      for (const k of [...keys].reverse()) await store.upload(bucket, k, k);
      const paged = new S3ObjectStore(createS3Client(server), { pageSize: 1 });
      const listed = [];
      for await (const o of paged.list(bucket, 'order/')) listed.push(o.key);
      expect(listed).toEqual(keys);
      const { folders, objects } = await paged.listFolder(bucket, 'order/');
      expect(folders).toEqual(['order/train/', 'order/trainZ/']);
      expect(objects.map((o) => o.key)).toEqual(['order/train', 'order/train.csv', 'order/train0', 'order/é.csv']);
    });

    it('keeps odd characters in keys intact through uploads, listings and downloads', async () => {
      const key = `odd/R&D 'q' "d" <x> \`b\` +p %41 &amp; ü~!.txt`;
      await store.upload(bucket, key, 'odd');
      const listed = [];
      for await (const o of store.list(bucket, 'odd/')) listed.push(o.key);
      expect(listed).toEqual([key]);
      expect((await store.listFolder(bucket, 'odd/')).objects.map((o) => o.key)).toEqual([key]);
      expect(await readText(store, bucket, key)).toBe('odd');
    });

    it('lists one folder level: sub-folders and objects, across pages', async () => {
      for (const k of [
        'folder/',
        'folder/a.csv',
        'folder/b.csv',
        'folder/c.csv',
        'folder/x/1.csv',
        'folder/y/2.csv',
        'folder/z/deep/3.csv',
      ]) {
        await store.upload(bucket, k, k.endsWith('/') ? '' : 'data');
      }
      const paged = new S3ObjectStore(createS3Client(server), { pageSize: 2 });
      const { folders, objects } = await paged.listFolder(bucket, 'folder/');
      expect([...folders].sort()).toEqual(['folder/x/', 'folder/y/', 'folder/z/']);
      expect(objects.map((o) => o.key).sort()).toEqual(['folder/a.csv', 'folder/b.csv', 'folder/c.csv']);
      expect(await store.listFolder(bucket, 'nothing-here/')).toEqual({ folders: [], objects: [] });
    });

    it('deletes several keys at once (DeleteObjects needs Content-MD5 on some stores)', async () => {
      await store.upload(bucket, 'del/1', '1');
      await store.upload(bucket, 'del/2', '2');
      const out = await store.client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/1' }, { Key: 'del/2' }] } }),
      );
      expect(out.Errors ?? []).toEqual([]);
      const left = [];
      for await (const o of store.list(bucket, 'del/')) left.push(o.key);
      expect(left).toEqual([]);
    });

    it('says which object is missing, with the store code', async () => {
      const e = await catchError(store.getStream(bucket, 'data/missing.csv'));
      expect(e.code).toBe('NoSuchKey');
      expect(e.notFound).toBe(true);
      expect(e.message).toMatch(/^GetObject s3:\/\/contract\/data\/missing\.csv: NoSuchKey/);

      const b = await catchError(store.listFolder('no-such-bucket-here', 'x/'));
      expect(b.code).toBe('NoSuchBucket');
      expect(b.message).toMatch(/^ListObjectsV2 s3:\/\/no-such-bucket-here\/x\/: NoSuchBucket/);
    });

    it('presigned URLs: a GET and a PUT of exactly their key, refused for another key or once expired', async () => {
      const key = 'signed/a b+c(1)!.txt';
      await store.upload(bucket, key, 'signed body');
      const get = await store.presign('GET', bucket, key, 60);
      const res = await fetch(get);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('signed body');
      // The same signature on another key: the store refuses it.
      await store.upload(bucket, 'signed/other.txt', 'not yours');
      const other = get.replace(/signed\/[^?]+/, 'signed/other.txt');
      expect((await fetch(other)).status).toBe(403);

      const put = await store.presign('PUT', bucket, 'signed/up.txt', 60);
      const up = await fetch(put, { method: 'PUT', body: 'uploaded through a URL' });
      expect(up.status).toBe(200);
      expect(await readText(store, bucket, 'signed/up.txt')).toBe('uploaded through a URL');
      // A PUT URL cannot be used to read.
      expect((await fetch(put)).status).toBe(403);

      const short = await store.presign('GET', bucket, key, 1);
      await new Promise((r) => setTimeout(r, 2_100));
      expect((await fetch(short)).status).toBe(403);
    });

    it('multipart through presigned part URLs', async () => {
      const key = 'signed/multi.bin';
      const id = await store.startMultipart(bucket, key);
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
      const etags: string[] = [];
      for (const [i, body] of parts.entries()) {
        const res = await fetch(await store.presignPart(bucket, key, id, i + 1, 60), { method: 'PUT', body });
        expect(res.status).toBe(200);
        etags.push(res.headers.get('etag') ?? '');
      }
      await store.completeMultipart(bucket, key, id, etags);
      const got = await sha256Of(await store.getStream(bucket, key));
      expect(got.hash).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
      const gone = await store.startMultipart(bucket, 'signed/aborted.bin');
      await store.abortMultipart(bucket, 'signed/aborted.bin', gone);
    });
  });
}
