import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PullEvent, type EngineImage } from '@tc/contracts';
import { buildLabelledImage, buildTestImage, removeTestContainers, removeTestImages, TEST_RUN, testDocker } from '../support/images.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { jobRequest, submit } from '../support/jobs.js';

let tc: TestConsole;
let userImage: string;
let rootImage: string;
let base: string;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tc-images-'));

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  userImage = await buildTestImage('user1101');
  rootImage = await buildTestImage('root');
  await tc.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(tc.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
  rmSync(tmp, { recursive: true, force: true });
});

async function list(): Promise<EngineImage[]> {
  const res = await tc.app.inject({ url: '/api/v1/images' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

const byTag = (items: EngineImage[], tag: string) => items.find((i) => i.repoTags.includes(tag));

function pullEvents(body: string): PullEvent[] {
  return body
    .split('\n')
    .filter(Boolean)
    .map((l) => PullEvent.parse(JSON.parse(l)));
}

describe('images on the engine', () => {
  it('lists them with tags, ID, size and created; unchecked until checked', async () => {
    const u = byTag(await list(), userImage);
    expect(u).toMatchObject({
      id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      repoTags: [userImage],
      check: { status: 'unchecked', reason: null, checkedAt: null },
    });
    expect(u!.sizeBytes).toBeGreaterThan(0);
    expect(Date.parse(u!.createdAt)).toBeGreaterThan(Date.parse('2020-01-01'));
  });

  it('checks one now: the UID 1101 image passes, the root one fails with the reason; the list shows both verdicts', async () => {
    const ok = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload: { ref: userImage } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      ref: userImage,
      cached: false,
      image: { repoTags: [userImage], check: { status: 'passed', reason: null } },
    });

    const bad = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload: { ref: rootImage } });
    expect(bad.statusCode, bad.body).toBe(200);
    expect(bad.json().image.check).toMatchObject({ status: 'failed', reason: expect.stringMatching(/root .*must be UID 1101/) });

    // The verdict is per image ID: asking again reuses it.
    const again = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload: { ref: bad.json().image.id } });
    expect(again.json()).toMatchObject({ cached: true, image: { check: { status: 'failed' } } });

    const items = await list();
    expect(byTag(items, userImage)!.check).toMatchObject({ status: 'passed', checkedAt: expect.any(String) });
    expect(byTag(items, rootImage)!.check.status).toBe('failed');
  });

  it('answers 404 for an image the engine does not have, and 400 naming ref for a bad one', async () => {
    const absent = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload: { ref: `tc-test/absent:${TEST_RUN}` } });
    expect(absent.statusCode).toBe(404);
    expect(absent.json().message).toMatch(/not on the engine/);
    for (const payload of [{}, { ref: 'UPPER/Case' }, { ref: 42 }]) {
      const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().fields.map((f: { path: string }) => f.path)).toEqual(['ref']);
    }
  });
});

describe('pull by reference', () => {
  it('streams progress then done with the checked image; one already present is not downloaded', async () => {
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', payload: { ref: userImage } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const events = pullEvents(res.body);
    expect(events[0]).toMatchObject({ type: 'progress', status: expect.stringMatching(/already on the engine/) });
    expect(events.at(-1)).toMatchObject({ type: 'done', ref: userImage, pulled: false, image: { check: { status: 'passed' } } });
  });

  it('ends with a clear error line when the registry cannot be reached', async () => {
    const ref = `tc-test-registry.invalid/nobody/absent:${TEST_RUN}`;
    const t0 = Date.now();
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', payload: { ref } });
    expect(res.statusCode).toBe(200);
    const events = pullEvents(res.body);
    const last = events.at(-1)!;
    expect(last.type).toBe('error');
    const message = (last as { message: string }).message;
    expect(message).toContain(`could not pull ${ref}`);
    expect(message).toMatch(/the registry tc-test-registry.invalid cannot be reached from the engine: /);
    expect(message).not.toMatch(/HTTP code|server error|internal error/);
    expect(events.filter((e) => e.type === 'done')).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('refuses a bad reference before starting, with 400 naming ref', async () => {
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', payload: { ref: 'no spaces allowed' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().fields).toEqual([{ path: 'ref', message: expect.stringMatching(/image reference/) }]);
  });
});

/** A real HTTP upload whose body is read from `file` as it is sent. */
function upload(file: string | null, contentType = 'application/x-tar'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/v1/images/load`,
      { method: 'POST', headers: { authorization: `Bearer ${tc.adminToken}`, 'content-type': contentType } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    if (file) createReadStream(file).pipe(req);
    else req.end();
  });
}

describe('upload a docker save tarball', () => {
  it('streams it to the engine, which then has the image, checked', async () => {
    // Its own label makes its ID its own: removing it cannot take another test's image along.
    const tag = `tc-test/loaded:${TEST_RUN}`;
    await buildLabelledImage({ tag, user: '1101:1101', labels: { 'tc.test.case': 'load' } });
    const id = (await testDocker().getImage(tag).inspect()).Id;
    const file = path.join(tmp, 'image.tar');
    await pipeline(await testDocker().getImage(tag).get(), createWriteStream(file));
    expect(statSync(file).size).toBeGreaterThan(100_000);
    await testDocker().getImage(tag).remove();
    await expect(testDocker().getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });

    const res = await upload(file);
    expect(res.status, res.body).toBe(200);
    const loaded = JSON.parse(res.body);
    expect(loaded.refs).toEqual([tag]);
    expect(loaded.items).toEqual([expect.objectContaining({ id, repoTags: [tag], check: expect.objectContaining({ status: 'passed' }) })]);

    expect(byTag(await list(), tag)).toMatchObject({ id, check: { status: 'passed', reason: null } });
  });

  it('refuses what is not an image archive with a 400 that says so', async () => {
    const junk = path.join(tmp, 'junk.tar');
    await pipeline(
      (async function* () {
        yield Buffer.from('this is not a tar file\n'.repeat(1000));
      })(),
      createWriteStream(junk),
    );
    const res = await upload(junk);
    expect(res.status, res.body).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      error: 'invalid_input',
      fields: [{ path: 'body', message: expect.stringMatching(/docker save/) }],
    });
  });

  it('hands the body on to the engine as it arrives, before the upload has ended', async () => {
    const tar = readFileSync(path.join(tmp, 'image.tar'));
    // Counts what reaches the engine port while the client still holds back the rest.
    const real = tc.engine.loadImage.bind(tc.engine);
    let reached = 0;
    tc.engine.loadImage = (body) =>
      real(
        body.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, cb) {
              reached += chunk.length;
              cb(null, chunk);
            },
          }),
        ),
      );
    try {
      let req!: http.ClientRequest;
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req = http.request(
          `${base}/api/v1/images/load`,
          { method: 'POST', headers: { authorization: `Bearer ${tc.adminToken}`, 'content-type': 'application/x-tar' } },
          (r) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (body += c));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
      });
      const half = Math.floor(tar.length / 2);
      req.write(tar.subarray(0, half));
      await waitFor('the first half to reach the engine', async () => reached >= half, 20_000);
      req.end(tar.subarray(half));
      const res = await answer;
      expect(res.status, res.body).toBe(200);
      expect(reached).toBe(tar.length);
      expect(JSON.parse(res.body).refs).toEqual([`tc-test/loaded:${TEST_RUN}`]);
    } finally {
      tc.engine.loadImage = real;
    }
  });

  it('lets go of the engine when the uploader goes away mid-way', async () => {
    const tar = readFileSync(path.join(tmp, 'image.tar'));
    const real = tc.engine.loadImage.bind(tc.engine);
    let reached = 0;
    let loading: Promise<unknown> | null = null;
    tc.engine.loadImage = (body) => {
      body.on('data', (c: Buffer) => (reached += c.length));
      const p = real(body);
      loading = p.catch((err: unknown) => err);
      return p;
    };
    try {
      const req = http.request(`${base}/api/v1/images/load`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tc.adminToken}`, 'content-type': 'application/x-tar' },
      });
      req.on('error', () => undefined);
      req.write(tar.subarray(0, Math.floor(tar.length / 2)));
      await waitFor('the upload to reach the engine', async () => reached > 0, 20_000);
      req.destroy();
      const outcome = await Promise.race([loading!, new Promise((r) => setTimeout(() => r('still waiting'), 15_000))]);
      expect(outcome).toBeInstanceOf(Error);
    } finally {
      tc.engine.loadImage = real;
    }
  });

  it('refuses a declared size over the limit at once with 413', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/images/load`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tc.adminToken}`,
          'content-type': 'application/x-tar',
          'content-length': String(21 * 1024 ** 3),
        },
      });
      req.on('response', (r) => {
        r.resume();
        req.destroy();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.flushHeaders();
    });
    expect(res).toBe(413);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await tc.app.inject({ url: '/api/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/images', '/api/v1/images/check', '/api/v1/images/pull', '/api/v1/images/load']),
    );
  });

  it('refuses an empty body (400) and another content type (415)', async () => {
    const empty = await upload(null);
    expect(empty.status, empty.body).toBe(400);
    expect(JSON.parse(empty.body).fields[0].path).toBe('body');
    const json = await tc.app.inject({ method: 'POST', url: '/api/v1/images/load', payload: { ref: 'x' } });
    expect(json.statusCode).toBe(400);
    const text = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/images/load',
      headers: { authorization: `Bearer ${tc.adminToken}`, 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(text.statusCode).toBe(415);
  });
});

// Last: the job it submits checks the image, which the tests above expect unchecked.
describe('images and the jobs that use them', () => {
  it('counts the jobs that name each image, so the Images page can hide those no job uses', async () => {
    expect(byTag(await list(), userImage)?.jobs).toBe(0);
    await uploadText(tc.store, 'jobs', { 'code/run.sh': 'echo hi', 'data/a.csv': 'x,y\n1,2\n' });
    await submit(tc, jobRequest(`uses-image-${TEST_RUN}`.slice(0, 64), userImage, 'true'));
    const items = await list();
    expect(byTag(items, userImage)?.jobs).toBe(1);
    expect(byTag(items, rootImage)?.jobs).toBe(0);
  });
});
