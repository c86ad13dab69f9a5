import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';

let tc: TestConsole;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  await uploadText(tc.store, 'browse', {
    'code/linreg/train.sh': 'echo hi',
    'code/readme.txt': 'read me',
    'data/b.csv': '1,2',
    'data/a.csv': 'x,y',
    'top.txt': '12345',
  });
  await tc.store.createBucket('another');
});
afterAll(async () => {
  await tc?.close();
});

const get = (url: string) => tc.app.inject({ url: `/api/v1${url}` });
const post = (url: string, payload: unknown) => tc.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object });

describe('GET /storage/buckets', () => {
  it('lists the buckets by name', async () => {
    const res = await get('/storage/buckets');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [{ name: 'another' }, { name: 'browse' }] });
  });
});

describe('GET /storage/buckets/{bucket}/objects', () => {
  it('lists one level of the bucket root: folders first, then objects', async () => {
    const res = await get('/storage/buckets/browse/objects');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      bucket: 'browse',
      prefix: '',
      path: 'obs://browse/',
      folders: [
        { name: 'code', prefix: 'code/', path: 'obs://browse/code/' },
        { name: 'data', prefix: 'data/', path: 'obs://browse/data/' },
      ],
      objects: [{ name: 'top.txt', key: 'top.txt', size: 5 }],
    });
  });

  it('lists below a prefix, without descending further', async () => {
    const res = await get('/storage/buckets/browse/objects?prefix=code/');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.path).toBe('obs://browse/code/');
    expect(body.folders).toEqual([{ name: 'linreg', prefix: 'code/linreg/', path: 'obs://browse/code/linreg/' }]);
    expect(body.objects).toEqual([{ name: 'readme.txt', key: 'code/readme.txt', size: 7 }]);

    const data = (await get('/storage/buckets/browse/objects?prefix=data/')).json();
    expect(data.objects.map((o: { name: string }) => o.name)).toEqual(['a.csv', 'b.csv']);
  });

  it('answers an empty listing for a prefix with nothing under it', async () => {
    const res = await get('/storage/buckets/browse/objects?prefix=nothing/here/');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ folders: [], objects: [] });
  });

  it('is a 404 for a bucket that does not exist', async () => {
    const res = await get('/storage/buckets/no-such-bucket/objects');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining('no-such-bucket') });
  });

  it.each([
    ['a bucket name that is not one', '/storage/buckets/Bad_Bucket/objects', 'bucket'],
    ['a too short bucket name', '/storage/buckets/ab/objects', 'bucket'],
    ['a prefix without its trailing slash', '/storage/buckets/browse/objects?prefix=code', 'prefix'],
    ['a prefix with a ".." segment', '/storage/buckets/browse/objects?prefix=code/../', 'prefix'],
    ['a prefix with an empty segment', '/storage/buckets/browse/objects?prefix=code//', 'prefix'],
  ])('is a 400 naming the field for %s', async (_what, url, field) => {
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ path: field })]);
  });
});

describe('POST /storage/buckets/{bucket}/folders', () => {
  it('creates a folder that the listing then shows, and is harmless to repeat', async () => {
    const res = await post('/storage/buckets/browse/folders', { prefix: 'output/run-1/' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ name: 'run-1', prefix: 'output/run-1/', path: 'obs://browse/output/run-1/' });

    const root = (await get('/storage/buckets/browse/objects')).json();
    expect(root.folders.map((f: { name: string }) => f.name)).toEqual(['code', 'data', 'output']);
    const output = (await get('/storage/buckets/browse/objects?prefix=output/')).json();
    expect(output.folders).toEqual([{ name: 'run-1', prefix: 'output/run-1/', path: 'obs://browse/output/run-1/' }]);
    // The folder's own marker is not listed as a file inside it.
    const inside = (await get('/storage/buckets/browse/objects?prefix=output/run-1/')).json();
    expect(inside).toMatchObject({ folders: [], objects: [] });

    expect((await post('/storage/buckets/browse/folders', { prefix: 'output/run-1/' })).statusCode).toBe(201);
  });

  it('is a 404 for a bucket that does not exist, and creates no bucket', async () => {
    const res = await post('/storage/buckets/no-such-bucket/folders', { prefix: 'x/' });
    expect(res.statusCode).toBe(404);
    expect(await tc.store.listBuckets()).not.toContain('no-such-bucket');
  });

  it.each([
    ['an empty prefix', { prefix: '' }],
    ['a missing prefix', {}],
    ['a prefix without its trailing slash', { prefix: 'x' }],
    ['a "." segment', { prefix: './' }],
    ['a control character', { prefix: 'a\u0001b/' }],
  ])('is a 400 naming prefix for %s', async (_what, body) => {
    const res = await post('/storage/buckets/browse/folders', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ path: 'prefix' })]);
  });
});

describe('OpenAPI', () => {
  it('describes the browse routes', async () => {
    const res = await tc.app.inject({ url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v1/storage/buckets',
        '/api/v1/storage/buckets/{bucket}/objects',
        '/api/v1/storage/buckets/{bucket}/folders',
      ]),
    );
  });
});
