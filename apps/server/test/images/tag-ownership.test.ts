import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PullEvent } from '@tc/contracts';
import { buildLabelledImage, buildTestImage, removeTestContainers, removeTestImages, TEST_RUN, testDocker } from '../support/images.js';
import { startTestConsole, type TestConsole } from '../support/console.js';
import { createUser } from '../support/accounts.js';

// Issue 11 item 2: tags are engine-wide, so a user who could load or pull onto another user's
// tag made that user's next job run a foreign image. A tag moves only for its owner or an admin.

let tc: TestConsole;
let base: string;
let alice: string;
let bob: string;
/** Built by the operator (no owner record), as the demo image is. */
let operatorImage: string;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tc-tag-owner-'));
const aliceTag = `tc-test/alice-owned:${TEST_RUN}`;

beforeAll(async () => {
  tc = await startTestConsole('embedded');
  alice = await createUser(tc.app, tc.adminToken, 'alice');
  bob = await createUser(tc.app, tc.adminToken, 'bob');
  operatorImage = await buildTestImage('user1101', `tc-test/operator:${TEST_RUN}`);
  await tc.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(tc.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
  rmSync(tmp, { recursive: true, force: true });
});

async function imageId(ref: string): Promise<string | null> {
  try {
    return (await testDocker().getImage(ref).inspect()).Id;
  } catch {
    return null;
  }
}

/**
 * A `docker save` tarball of a fresh image of its own (a distinct ID, from its own label), whose
 * manifest names `tags`; the image itself is removed from the engine again.
 */
async function tarball(name: string, tags: string[], gzip = false): Promise<{ file: string; id: string }> {
  const tmpTag = `tc-test/tarball-${name}:${TEST_RUN}`;
  await buildLabelledImage({ tag: tmpTag, user: '1101:1101', labels: { 'tc.test.case': `${name}-${TEST_RUN}` } });
  const id = (await imageId(tmpTag))!;
  const file = path.join(tmp, `${name}.tar${gzip ? '.gz' : ''}`);
  // Saved whole before the image goes: the engine holds the removal while a save still streams.
  const saved = retag(await testDocker().getImage(tmpTag).get(), tags);
  if (gzip) await pipeline(saved, createGzip(), createWriteStream(file));
  else await pipeline(saved, createWriteStream(file));
  await testDocker().getImage(tmpTag).remove();
  return { file, id };
}

/** Rewrites the RepoTags of manifest.json and drops `repositories`, passing the rest through. */
function retag(source: NodeJS.ReadableStream, tags: string[]): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => {
    if (header.name === 'repositories') {
      stream.resume();
      stream.on('end', next);
      return;
    }
    if (header.name !== 'manifest.json') {
      stream.pipe(pack.entry(header, next));
      return;
    }
    const parts: Buffer[] = [];
    stream.on('data', (c: unknown) => parts.push(c as Buffer));
    stream.on('end', () => {
      const manifest = JSON.parse(Buffer.concat(parts).toString('utf8')) as { RepoTags: string[] }[];
      manifest[0]!.RepoTags = tags;
      pack.entry({ ...header, size: undefined }, JSON.stringify(manifest), next);
    });
  });
  extract.on('finish', () => pack.finalize());
  source.pipe(extract);
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

function upload(token: string, file: string, contentType = 'application/x-tar'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/api/v1/images/load`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('loading a tarball onto a tag', () => {
  it('lets a user claim a new tag, and move it again later: it is theirs', async () => {
    const first = await tarball('alice-1', [aliceTag]);
    const res = await upload(alice, first.file);
    expect(res.status, res.body).toBe(200);
    expect(await imageId(aliceTag)).toBe(first.id);

    const second = await tarball('alice-2', [aliceTag]);
    const again = await upload(alice, second.file);
    expect(again.status, again.body).toBe(200);
    expect(await imageId(aliceTag)).toBe(second.id);
  });

  it("refuses another user's upload under that tag with 409 naming the tag and its owner, before the engine moves it", async () => {
    const before = await imageId(aliceTag);
    expect(before).not.toBeNull();
    const forged = await tarball('bob-forged', [aliceTag]);
    const res = await upload(bob, forged.file);
    expect(res.status, res.body).toBe(409);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'conflict' });
    expect(JSON.parse(res.body).message).toContain(aliceTag);
    expect(JSON.parse(res.body).message).toMatch(/belongs to another user/);
    expect(await imageId(aliceTag)).toBe(before);
    // The engine never loaded the forged image at all.
    expect(await imageId(forged.id)).toBeNull();
  });

  it('refuses the same tag spelled out in full (docker.io/…), and gzip-compressed', async () => {
    const before = await imageId(aliceTag);
    const full = await tarball('bob-full', [`docker.io/${aliceTag}`]);
    const res = await upload(bob, full.file);
    expect(res.status, res.body).toBe(409);
    const gz = await tarball('bob-gz', [`other/free:${TEST_RUN}`, aliceTag], true);
    const zipped = await upload(bob, gz.file, 'application/gzip');
    expect(zipped.status, zipped.body).toBe(409);
    expect(await imageId(aliceTag)).toBe(before);
    expect(await imageId(`other/free:${TEST_RUN}`)).toBeNull();
  });

  it('refuses a tag on the engine that no user loaded (the operator built it) as the console’s', async () => {
    const before = await imageId(operatorImage);
    const forged = await tarball('bob-operator', [operatorImage]);
    const res = await upload(bob, forged.file);
    expect(res.status, res.body).toBe(409);
    expect(JSON.parse(res.body).message).toContain(operatorImage);
    expect(JSON.parse(res.body).message).toMatch(/belongs to the console/);
    expect(await imageId(operatorImage)).toBe(before);
  });

  it('lets an admin move any tag', async () => {
    const admins = await tarball('admin-move', [aliceTag]);
    const res = await upload(tc.adminToken, admins.file);
    expect(res.status, res.body).toBe(200);
    expect(await imageId(aliceTag)).toBe(admins.id);
  });
});

describe('pulling onto a tag', () => {
  it("refuses another user's tag and the console's with 409 before anything is pulled", async () => {
    for (const ref of [aliceTag, operatorImage]) {
      const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', headers: as(bob), payload: { ref } });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().message).toContain(ref);
    }
    // Onto a tag that nobody holds, the pull goes ahead (and fails here: no registry).
    const free = `tc-test-registry.invalid/bob/free:${TEST_RUN}`;
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', headers: as(bob), payload: { ref: free } });
    expect(res.statusCode).toBe(200);
    const last = PullEvent.parse(JSON.parse(res.body.trim().split('\n').at(-1)!));
    expect(last).toMatchObject({ type: 'error', message: expect.stringContaining('cannot be reached') });
  });

  it('lets an admin pull any tag', async () => {
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/pull', payload: { ref: operatorImage } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('"type":"done"');
  });
});

describe('the image check and groups', () => {
  let n = 0;
  async function verdict(
    user: string,
    extra: { path: string; content: string }[] = [],
  ): Promise<{ status: string; reason: string | null }> {
    const tag = `tc-test/group-${(n += 1)}:${TEST_RUN}`;
    await buildLabelledImage({ tag, user, extraFiles: extra });
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/images/check', payload: { ref: tag } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().image.check;
  }
  const passwd = { path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nwork:x:1101:1101::/home/work:/bin/sh\n' };
  const group = { path: '/etc/group', content: 'root:x:0:\nwork:x:1101:\ngrp:x:1234:\n' };

  it('fails group 0, given as a number or a name, saying the root group is not allowed', async () => {
    expect(await verdict('1101:0')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/group 0 \(the root group\) is not allowed/),
    });
    expect(await verdict('1101:root', [group])).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/"root".*group 0 \(the root group\)/),
    });
  });

  it('fails a bare UID without a passwd entry: the engine runs it in group 0', async () => {
    expect(await verdict('1101')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/group 0 \(the root group\)/) });
  });

  it('fails a user that /etc/group lists as a member of group 0', async () => {
    const rootMember = { path: '/etc/group', content: 'root:x:0:work\nwork:x:1101:\n' };
    expect(await verdict('work', [passwd, rootMember])).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/member of group 0/),
    });
  });

  it('passes UID 1101 with a group of its own: numeric, by name, or from the passwd entry', async () => {
    expect(await verdict('1101:1101')).toMatchObject({ status: 'passed', reason: null });
    expect(await verdict('1101:grp', [group])).toMatchObject({ status: 'passed' });
    expect(await verdict('work', [passwd, group])).toMatchObject({ status: 'passed' });
    expect(await verdict('1101', [passwd])).toMatchObject({ status: 'passed' });
  });

  it('fails a group name the image does not define', async () => {
    expect(await verdict('1101:nogroup', [group])).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/"nogroup" is not in its \/etc\/group/),
    });
  });
});
