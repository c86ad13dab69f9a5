import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '@tc/contracts';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';
import { allLogLines, ENDED, jobRequest, submit, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  image = await buildTestImage('user1101');
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.csv': '1,2' });
  await uploadText(tc.store, 'dsets', { 'iris/a.csv': 'aaa', 'iris/b.csv': 'bbbb', 'iris/sub/c.csv': 'ccccc', 'empty/': '' });
});

afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

const api = async <T>(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>) => {
  const res = await tc.app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as T };
};

const onDataset = (name: string, version: string, boot = 'find /home/work/data -type f | sort') =>
  jobRequest(name, image, boot, { data: { source: 'dataset', datasetId: 'iris', version } });

describe('Data Management: datasets with versions that pin their files', () => {
  it('creates a dataset and publishes versions that pin key, size and ETag', async () => {
    const made = await api<Dataset>('POST', '/api/v1/datasets', { name: 'iris', description: 'flowers', path: 'obs://dsets/iris/' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'iris', versions: [] });
    const v1 = await api<Dataset>('POST', '/api/v1/datasets/iris/versions');
    expect(v1.status).toBe(201);
    expect(v1.body.versions).toEqual([expect.objectContaining({ version: 'V001', files: 3, totalBytes: 12 })]);

    const page1 = await api<{ items: { key: string; size: number; etag: string }[]; nextAfter: string | null }>(
      'GET',
      '/api/v1/datasets/iris/versions/V001/files?limit=2',
    );
    expect(page1.body.items.map((f) => f.key)).toEqual(['iris/a.csv', 'iris/b.csv']);
    expect(page1.body.items[0]!.etag).toMatch(/^[0-9a-f]{32}$/);
    const page2 = await api<{ items: { key: string }[]; nextAfter: string | null }>(
      'GET',
      `/api/v1/datasets/iris/versions/V001/files?limit=2&after=${encodeURIComponent(page1.body.nextAfter!)}`,
    );
    expect(page2.body).toEqual({ items: [expect.objectContaining({ key: 'iris/sub/c.csv', size: 5 })], nextAfter: null });
  });

  it('stages exactly the pinned snapshot after the folder changed', async () => {
    await uploadText(tc.store, 'dsets', { 'iris/d-added-later.csv': 'dddd' });
    const job = await submit(tc, onDataset('on-v1', 'V001'));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status, end.reason ?? '').toBe('Successful');
    const files = (await allLogLines(tc, job)).filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(files).toEqual(['/home/work/data/a.csv', '/home/work/data/b.csv', '/home/work/data/sub/c.csv']);

    const v2 = await api<Dataset>('POST', '/api/v1/datasets/iris/versions');
    expect(v2.body.versions.map((v) => [v.version, v.files])).toEqual([
      ['V002', 4],
      ['V001', 3],
    ]);
  });

  it('fails a job whose pinned object changed, naming it', async () => {
    await uploadText(tc.store, 'dsets', { 'iris/b.csv': 'BBBB' });
    const job = await submit(tc, onDataset('on-changed', 'V002'));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^data download failed: the object s3:\/\/dsets\/iris\/b\.csv changed: its ETag is \w+, expected \w+/);
  });

  it('fails a job whose pinned object is gone, naming it', async () => {
    await tc.app.inject({ method: 'POST', url: '/api/v1/datasets/iris/versions' }); // V003 pins the changed b.csv
    const { body: ds } = await api<Dataset>('GET', '/api/v1/datasets/iris');
    expect(ds.versions[0]!.version).toBe('V003');
    await tc.store.deleteObject('dsets', 'iris/a.csv');
    const job = await submit(tc, onDataset('on-missing', 'V003'));
    const end = await untilStatus(tc, job, ENDED);
    expect(end.status).toBe('Running failed');
    expect(end.reason).toMatch(/^data download failed: GetObject s3:\/\/dsets\/iris\/a\.csv: HTTP 404 NoSuchKey/);
  });

  it('refuses unknown datasets, unknown versions and an output inside the dataset, naming the field', async () => {
    const unknown = await api<{ fields: { path: string; message: string }[] }>('POST', '/api/v1/training-jobs', {
      ...onDataset('bad-ds', 'V001'),
      data: { source: 'dataset', datasetId: 'nope', version: 'V001' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields).toEqual([{ path: 'data.datasetId', message: 'dataset nope does not exist' }]);
    const version = await api<{ fields: { path: string }[] }>('POST', '/api/v1/training-jobs', onDataset('bad-v', 'V009'));
    expect(version.body.fields).toEqual([expect.objectContaining({ path: 'data.version' })]);
    const inside = await api<{ fields: { path: string }[] }>('POST', '/api/v1/training-jobs', {
      ...onDataset('bad-out', 'V001'),
      trainOutput: 'obs://dsets/iris/out/',
    });
    expect(inside.body.fields).toEqual([expect.objectContaining({ path: 'trainOutput' })]);
  });

  it('refuses a duplicate name, a missing bucket and publishing an empty folder', async () => {
    expect((await api('POST', '/api/v1/datasets', { name: 'iris', path: 'obs://dsets/iris/' })).status).toBe(409);
    const noBucket = await api<{ fields: { path: string; message: string }[] }>('POST', '/api/v1/datasets', {
      name: 'ghost',
      path: 'obs://no-such-bucket/x/',
    });
    expect(noBucket.body.fields).toEqual([{ path: 'path', message: 'bucket no-such-bucket does not exist' }]);
    expect((await api('POST', '/api/v1/datasets', { name: 'hollow', path: 'obs://dsets/empty/' })).status).toBe(201);
    const empty = await api<{ fields: { path: string; message: string }[] }>('POST', '/api/v1/datasets/hollow/versions');
    expect(empty.status).toBe(400);
    expect(empty.body.fields[0]!.message).toMatch(/holds no files/);
    expect((await api<Dataset>('GET', '/api/v1/datasets/hollow')).body.versions).toEqual([]);
    expect((await api('GET', '/api/v1/datasets/nobody')).status).toBe(404);
  });
});
