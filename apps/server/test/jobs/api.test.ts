import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, removeTestImages, buildTestImage } from '../support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';

let tc: TestConsole;
let rootImage: string;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  rootImage = await buildTestImage('root');
  await uploadText(tc.store, 'bkt', { 'code/train.sh': 'true', 'data/a.csv': 'x,y' });
});
afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

const valid = () => ({
  name: 'api-job',
  algorithm: { source: 'custom', imagePath: 'nothing/here:1', codeDir: 'obs://bkt/code/', bootCommand: 'true' },
  data: { source: 'path', path: 'obs://bkt/data/' },
  trainOutput: 'obs://bkt/out/',
});

describe('create: bad input is a 400 naming every field', () => {
  it('names each offending field and rule', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: { ...valid(), name: '9bad name', trainOutput: 'http://x/', env: [{ name: 'RANK', value: '1' }] },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe('invalid_input');
    expect(body.requestId).toBeTruthy();
    const paths = body.fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'trainOutput', 'env.0.name']));
    expect(body.fields.find((f: { path: string }) => f.path === 'env.0.name').message).toMatch(/RANK/);
  });

  it('refuses an output path inside the data path, on the output field', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: { ...valid(), trainOutput: 's3://bkt/data/out/' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ path: 'trainOutput' })]);
  });

  it('answers malformed JSON with a 400, not a 5xx', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBeTruthy();
  });

  it('refuses an unknown flavor, and a job larger than the whole pool, naming the field', async () => {
    const flavor = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: { ...valid(), resources: { pool: 'public', type: 'CPU', flavor: 'nope', nodes: 1 } },
    });
    expect(flavor.statusCode).toBe(400);
    expect(flavor.json().fields[0].path).toBe('resources.flavor');
    const nodes = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: { ...valid(), resources: { pool: 'public', type: 'CPU', flavor: 'cpu.2u8g', nodes: 16 } },
    });
    expect(nodes.statusCode).toBe(400);
    expect(nodes.json().fields[0]).toMatchObject({ path: 'resources.nodes', message: expect.stringMatching(/could never start/) });
  });
});

describe('read', () => {
  it('answers an unknown job or version with 404', async () => {
    expect((await tc.app.inject({ url: '/api/v1/training-jobs/nobody/versions/V001' })).statusCode).toBe(404);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs/nobody/versions/V001/logs' })).statusCode).toBe(404);
  });

  it('lists resource pools with flavors and the capacity read from the engine', async () => {
    const res = await tc.app.inject({ url: '/api/v1/resource-pools' });
    expect(res.statusCode).toBe(200);
    const [pool] = res.json().items;
    expect(pool.id).toBe('public');
    expect(pool.flavors.map((f: { id: string }) => f.id)).toContain('cpu.1u2g');
    expect(pool.capacity.vcpus).toBeGreaterThan(0);
    expect(pool.capacity.memoryGiB).toBeGreaterThan(0);
  });

  it('reports health of database, object store and engine', async () => {
    const res = await tc.app.inject({ url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', checks: { database: { ok: true }, objectStore: { ok: true }, engine: { ok: true } } });
  });

  it('serves an OpenAPI document generated from the contracts', async () => {
    const res = await tc.app.inject({ url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/training-jobs', '/api/v1/training-jobs/{name}/versions/{version}']),
    );
    expect(JSON.stringify(doc.paths['/api/v1/training-jobs'].post)).toContain('trainOutput');
  });
});

describe('versions', () => {
  it('gives 50 concurrent creates of one name V001…V050, no gap, no duplicate', async () => {
    const body = { ...valid(), name: 'concurrent', algorithm: { ...valid().algorithm, imagePath: rootImage } };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: body })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    const versions = results.map((r) => r.json().version).sort();
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => `V${String(i + 1).padStart(3, '0')}`));
    // They queue for the pool's CPUs and fail their image check one after another.
    const list = await waitFor(
      'all 50 to end',
      async () => {
        const l = (await tc.app.inject({ url: '/api/v1/training-jobs?name=concurrent&pageSize=100' })).json();
        return l.items.every((j: { status: string }) => j.status === 'Running failed') ? l : null;
      },
      120_000,
    );
    expect(list.total).toBe(50);
    expect(list.items[0].version).toBe('V050');
  });

  it('filters the list by status and pages it', async () => {
    const failed = (await tc.app.inject({ url: '/api/v1/training-jobs?status=Running%20failed&pageSize=10&page=2' })).json();
    expect(failed.items).toHaveLength(10);
    expect(failed.total).toBeGreaterThanOrEqual(50);
    const bad = await tc.app.inject({ url: '/api/v1/training-jobs?status=Nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].path).toBe('status');
  });

  it('lists one row per name with latest=true, with its version count, and documents the parameter', async () => {
    const one = (await tc.app.inject({ url: '/api/v1/training-jobs?name=concurrent&latest=true' })).json();
    expect(one.total).toBe(1);
    expect(one.items).toEqual([expect.objectContaining({ name: 'concurrent', version: 'V050', versionCount: 50 })]);
    const bad = await tc.app.inject({ url: '/api/v1/training-jobs?latest=yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].path).toBe('latest');
    const doc = (await tc.app.inject({ url: '/api/docs/json' })).json();
    const get = doc.paths['/api/v1/training-jobs'].get;
    expect(get.parameters.map((p: { name: string }) => p.name)).toContain('latest');
    expect(JSON.stringify(get.responses['200'])).toContain('versionCount');
  });
});
