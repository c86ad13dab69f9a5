/**
 * The embedded store (s3rver) turns every bucket name and key into a file path, so a name with
 * `..` parts used to reach outside its data folder: `aws s3api put-object --key '../../../tmp/x'`
 * wrote `x._S3rver_object` into the host's /tmp. These tests send the names the way an attacker
 * would, over real HTTP and correctly signed, in every spelling that reaches the file system
 * (raw, percent-encoded, in the Host header, in the copy-source header or query, in upload ids and
 * part numbers, in request bodies), and check the host's file system as well as the answer.
 *
 * Requests are signed here by hand rather than with the AWS SDK, which would normalise `..` out of
 * the path before sending it; the signature covers the path as s3rver rebuilds it (decoded, then
 * re-encoded part by part), so each request reaches the code that touches the disk.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';

const KEY = 'ESCAPETESTKEY';
const SECRET = 'escape-test-secret';
const REGION = 'us-east-1';

/** The test's own folder; the data folder sits deep inside it so that `../` chains land here. */
const root = mkdtempSync(path.join(os.tmpdir(), 'tc-embedded-escape-'));
const dataDir = path.join(root, 'a', 'b', 'c', 'd', 's3');
/** A name for the one escape aimed at the host's /tmp itself, as in the original report. */
const tmpName = `tc-escape-${process.pid}-${randomBytes(4).toString('hex')}`;

let s3: EmbeddedS3;
let port: number;
let pidAtStart: number | undefined;

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

interface RawRequest {
  /** Query parameters, sent percent-encoded. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** The Host header, for virtual-host style requests (the bucket in the host name). */
  host?: string;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** koa-router's decoding of a path parameter (s3rver's router). */
function routerDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The canonical URI s3rver signs: bucket and key as the router decoded them, re-encoded part by part. */
function s3rverCanonicalUri(routedPath: string): string {
  const m = /^\/([^/]+)(?:\/(.*))?$/.exec(routedPath);
  if (!m) return '/';
  const bucket = routerDecode(m[1]!);
  const rawKey = m[2] ?? '';
  const resource = rawKey ? `/${bucket}/${routerDecode(rawKey)}` : `/${bucket}${routedPath.endsWith('/') ? '/' : ''}`;
  return resource.split('/').map(encodeRfc3986).join('/');
}

/** A SigV4-signed request with `rawPath` sent exactly as written (no normalisation). */
function send(method: string, rawPath: string, req: RawRequest = {}): Promise<Answer> {
  const host = req.host ?? `127.0.0.1:${port}`;
  const vhostBucket = req.host ? /^(.+)\.s3\.amazonaws\.com$/.exec(req.host)?.[1] : undefined;
  const routedPath = vhostBucket ? `/${vhostBucket}${rawPath}` : rawPath;
  const body = req.body ?? '';
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const payloadHash = sha256(body);
  const headers: Record<string, string> = {
    host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
  };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const signed = Object.keys(headers)
    .filter((h) => h === 'host' || h.startsWith('x-amz-'))
    .sort();
  const query = Object.entries(req.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  const canonicalRequest = [
    method,
    s3rverCanonicalUri(routedPath),
    [...query].sort().join('&'),
    signed.map((h) => `${h}:${headers[h]}\n`).join(''),
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${date}/${REGION}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, date), REGION), 's3'), 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${KEY}/${scope},SignedHeaders=${signed.join(';')},Signature=${signature}`;

  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: query.length ? `${rawPath}?${query.join('&')}` : rawPath,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

function expectS3Error(answer: Answer, status: number, code: string): void {
  expect({ status: answer.status, code: /<Code>([^<]*)<\/Code>/.exec(answer.body)?.[1] }).toEqual({ status, code });
  expect(answer.headers['content-type']).toContain('application/xml');
}

/** Every file and folder under `dir` (relative paths, folders with a trailing slash), minus `skip`. */
function tree(dir: string, skip?: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (full === skip) continue;
      const rel = path.relative(dir, full);
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        walk(full);
      } else {
        out.push(`${rel} ${readFileSync(full).length}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** Top-level entries of the host's /tmp that look like s3rver's files. */
function s3rverFilesInTmp(): string[] {
  return readdirSync(os.tmpdir()).filter((n) => n.includes('_S3rver_') || n.startsWith(tmpName));
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'aws',
      ['--endpoint-url', `http://127.0.0.1:${port}`, ...args],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_DEFAULT_REGION: REGION } },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let outsideBefore: string[];
let tmpBefore: string[];
let otherBefore: string[];

beforeAll(async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  s3 = await startEmbeddedS3({ port, dir: dataDir, accessKeyId: KEY, secretAccessKey: SECRET, log: () => {} });
  pidAtStart = s3.pid;

  for (const bucket of ['bkt', 'other']) expect((await send('PUT', `/${bucket}`)).status).toBe(200);
  expect((await send('PUT', '/bkt/hello.txt', { body: 'hello' })).status).toBe(200);
  expect((await send('PUT', '/other/secret.txt', { body: 'secret of another bucket' })).status).toBe(200);

  outsideBefore = tree(root, dataDir);
  tmpBefore = s3rverFilesInTmp();
  otherBefore = tree(path.join(dataDir, 'other'));
});

afterEach(async () => {
  // Nothing appeared (or went) outside the data folder, in another bucket, or in the host's /tmp.
  expect(tree(root, dataDir)).toEqual(outsideBefore);
  expect(readdirSync(dataDir).sort()).toEqual(['bkt', 'other']);
  expect(tree(path.join(dataDir, 'other'))).toEqual(otherBefore);
  expect(s3rverFilesInTmp()).toEqual(tmpBefore);
  // And the same server process still serves an ordinary request.
  const hello = await send('GET', '/bkt/hello.txt');
  expect({ status: hello.status, body: hello.body }).toEqual({ status: 200, body: 'hello' });
  expect(s3.pid).toBe(pidAtStart);
  expect(s3.restarts).toBe(0);
});

afterAll(async () => {
  await s3?.stop();
  rmSync(root, { recursive: true, force: true });
  // Only there if a run without the defence let the escape through.
  for (const n of readdirSync(os.tmpdir()).filter((f) => f.startsWith(tmpName))) rmSync(path.join(os.tmpdir(), n), { force: true });
});

describe('the embedded store keeps every name inside its bucket folder', () => {
  /** Keys (as sent in the path after `/bkt/`) that name a file outside the bucket's folder. */
  const escapingKeys = [
    '../../../escaped-raw',
    '%2e%2e/%2e%2e/%2e%2e/escaped-dots',
    '%2e%2e%2f%2e%2e%2f%2e%2e%2fescaped-slashes',
    '..%2F..%2F..%2Fescaped-mixed',
    'a/%2E%2E/%2E%2E/%2E%2E/escaped-upper',
    'a/./../../../escaped-dot',
    '../escaped-into-data-folder',
    '../other/secret.txt',
    '..%2Fother%2Fsecret.txt',
    'nul%00byte',
    '../other/planted.txt',
    '../../../../../../../../../../..%2Ftmp%2F' + tmpName,
  ];

  it.each(escapingKeys)('refuses PUT, GET, HEAD and DELETE of the key %s', async (key) => {
    const p = `/bkt/${key}`;
    expectS3Error(await send('PUT', p, { body: 'planted' }), 400, 'InvalidArgument');
    const got = await send('GET', p);
    expectS3Error(got, 400, 'InvalidArgument');
    expect(got.body).not.toContain('secret of another bucket');
    expect((await send('HEAD', p)).status).toBe(400);
    expectS3Error(await send('DELETE', p), 400, 'InvalidArgument');
    // The answer names the field at fault.
    expect((await send('PUT', p, { body: 'x' })).body).toContain('<ArgumentName>key</ArgumentName>');
  });

  it('keeps keys that only look like escapes (backslashes, double encoding) as ordinary keys in the bucket', async () => {
    const cases = [
      { sent: '..%5C..%5C..%5Cback-encoded', file: '..\\..\\..\\back-encoded' },
      { sent: '..\\..\\..\\back-raw', file: '..\\..\\..\\back-raw' },
      { sent: '%252e%252e%252fdouble', file: '%2e%2e%2fdouble' },
    ];
    for (const { sent, file } of cases) {
      expect((await send('PUT', `/bkt/${sent}`, { body: sent })).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'bkt', `${file}._S3rver_object`))).toBe(true);
      const got = await send('GET', `/bkt/${sent}`);
      expect({ status: got.status, body: got.body }).toEqual({ status: 200, body: sent });
      expect((await send('DELETE', `/bkt/${sent}`)).status).toBe(204);
      expect(existsSync(path.join(dataDir, 'bkt', `${file}._S3rver_object`))).toBe(false);
    }
  });

  it('refuses bucket names that are not one folder of the data folder', async () => {
    // `..` as the bucket is the data folder's parent, which exists: s3rver would list it, write
    // into it, even try to delete it.
    for (const bucket of ['..', '%2e%2e', '.', 'x%2F..%2F..', 'bkt%2F..%2Fother', '..%5C..']) {
      expectS3Error(await send('PUT', `/${bucket}/planted`, { body: 'planted' }), 400, 'InvalidBucketName');
      expectS3Error(await send('GET', `/${bucket}/s3/other/secret.txt`), 400, 'InvalidBucketName');
      expectS3Error(await send('GET', `/${bucket}/secret.txt`), 400, 'InvalidBucketName');
      const listing = await send('GET', `/${bucket}/`, { query: { 'list-type': '2' } });
      expectS3Error(listing, 400, 'InvalidBucketName');
      expect(listing.body).not.toContain('secret.txt');
      expectS3Error(await send('DELETE', `/${bucket}`), 400, 'InvalidBucketName');
      expectS3Error(await send('PUT', `/${bucket}`), 400, 'InvalidBucketName');
    }
  });

  it('refuses a bucket named in the Host header (virtual-host style) that leaves the data folder', async () => {
    expectS3Error(await send('PUT', '/planted-vhost', { host: '...s3.amazonaws.com', body: 'planted' }), 400, 'InvalidBucketName');
    expectS3Error(await send('GET', '/s3/other/secret.txt', { host: '...s3.amazonaws.com' }), 400, 'InvalidBucketName');
  });

  it('refuses copies whose source or destination leaves the bucket, in the header or the query', async () => {
    const sources = [
      '/bkt/../other/secret.txt',
      'bkt/%2e%2e/other/secret.txt',
      '/../s3/other/secret.txt',
      'bkt/a/%2E%2E/%2E%2E/other/secret.txt',
    ];
    for (const source of sources) {
      expectS3Error(await send('PUT', '/bkt/stolen.txt', { headers: { 'x-amz-copy-source': source } }), 400, 'InvalidArgument');
      // s3rver also takes x-amz-* headers from the query string.
      expectS3Error(await send('PUT', '/bkt/stolen.txt', { query: { 'x-amz-copy-source': source } }), 400, 'InvalidArgument');
    }
    const answer = await send('PUT', '/bkt/stolen.txt', { headers: { 'x-amz-copy-source': '/bkt/../other/secret.txt' } });
    expect(answer.body).toContain('<ArgumentName>x-amz-copy-source</ArgumentName>');
    expect(existsSync(path.join(dataDir, 'bkt', 'stolen.txt._S3rver_object'))).toBe(false);
    // A copy source s3rver cannot even decode is a client error, not a 500.
    expectS3Error(await send('PUT', '/bkt/stolen.txt', { headers: { 'x-amz-copy-source': '/bkt/%E0%A4%A' } }), 400, 'InvalidArgument');
    // The destination is checked like any key.
    expectS3Error(
      await send('PUT', '/bkt/..%2F..%2Fcopied-out', { headers: { 'x-amz-copy-source': '/bkt/hello.txt' } }),
      400,
      'InvalidArgument',
    );
    // An ordinary copy still works.
    expect((await send('PUT', '/bkt/copy.txt', { headers: { 'x-amz-copy-source': '/bkt/hello.txt' } })).status).toBe(200);
    expect((await send('GET', '/bkt/copy.txt')).body).toBe('hello');
    expect((await send('DELETE', '/bkt/copy.txt')).status).toBe(204);
  });

  it('refuses multipart uploads whose key, upload id or part number leaves the bucket', async () => {
    expectS3Error(await send('POST', '/bkt/../../mp-escaped', { query: { uploads: '' } }), 400, 'InvalidArgument');

    const init = await send('POST', '/bkt/mp.bin', { query: { uploads: '' } });
    expect(init.status).toBe(200);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body)![1]!;

    for (const badId of ['../../../../escaped-upload', `${uploadId}/../../../../../escaped-upload`, '..']) {
      const part = await send('PUT', '/bkt/mp.bin', { query: { partNumber: '1', uploadId: badId }, body: 'part' });
      expectS3Error(part, 404, 'NoSuchUpload');
      const complete = await send('POST', '/bkt/mp.bin', {
        query: { uploadId: badId },
        body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
      });
      expectS3Error(complete, 404, 'NoSuchUpload');
    }
    for (const badPart of ['../../../../../escaped-part', '0', '10001', '1.5', '..']) {
      const part = await send('PUT', '/bkt/mp.bin', { query: { partNumber: badPart, uploadId }, body: 'part' });
      expectS3Error(part, 400, 'InvalidArgument');
      expect(part.body).toContain('<ArgumentName>partNumber</ArgumentName>');
    }
    const partCopy = await send('PUT', '/bkt/mp.bin', {
      query: { partNumber: '1', uploadId },
      headers: { 'x-amz-copy-source': '/bkt/../other/secret.txt' },
    });
    expectS3Error(partCopy, 400, 'InvalidArgument');

    // The same upload still completes normally.
    const part = await send('PUT', '/bkt/mp.bin', { query: { partNumber: '1', uploadId }, body: 'multipart body' });
    expect(part.status).toBe(200);
    const complete = await send('POST', '/bkt/mp.bin', {
      query: { uploadId },
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${String(part.headers.etag)}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect(complete.status).toBe(200);
    expect((await send('GET', '/bkt/mp.bin')).body).toBe('multipart body');
    expect((await send('DELETE', '/bkt/mp.bin')).status).toBe(204);
  });

  it('refuses keys in request bodies (DeleteObjects, browser-form POST) that leave the bucket', async () => {
    const del = await send('POST', '/bkt', {
      query: { delete: '' },
      body: '<Delete><Object><Key>../other/secret.txt</Key></Object><Object><Key>../../../escaped</Key></Object></Delete>',
    });
    expectS3Error(del, 400, 'InvalidArgument');
    expect(existsSync(path.join(dataDir, 'other', 'secret.txt._S3rver_object'))).toBe(true);

    const boundary = `----tc${randomBytes(6).toString('hex')}`;
    const form = (key: string) =>
      [
        `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: application/octet-stream\r\n\r\nposted\r\n`,
        `--${boundary}--\r\n`,
      ].join('');
    const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    for (const key of ['../../../posted', '../other/posted.txt']) {
      expectS3Error(await send('POST', '/bkt', { headers, body: form(key) }), 400, 'InvalidArgument');
    }
    // An ordinary form upload still works.
    expect((await send('POST', '/bkt', { headers, body: form('posted.txt') })).status).toBe(204);
    expect((await send('GET', '/bkt/posted.txt')).body).toBe('posted');
    expect((await send('DELETE', '/bkt/posted.txt')).status).toBe(204);
  });

  it('lists only the bucket itself, whatever the prefix', async () => {
    for (const prefix of ['../', '../other/', '..%2Fother', '../../', '/']) {
      for (const extra of [{}, { delimiter: '/' }] as Record<string, string>[]) {
        const answer = await send('GET', '/bkt/', { query: { 'list-type': '2', prefix, ...extra } });
        expect(answer.status).toBe(200);
        expect(answer.body).not.toContain('<Key>');
        expect(answer.body).not.toContain('secret');
      }
    }
  });

  it('refuses the escapes from the aws CLI, as first reported', async () => {
    const file = path.join(root, 'upload.txt');
    writeFileSync(file, 'from the cli');
    try {
      const put = await cli([
        's3api',
        'put-object',
        '--bucket',
        'bkt',
        '--key',
        `../../../../../../../../../../tmp/${tmpName}`,
        '--body',
        file,
      ]);
      expect(put.code).not.toBe(0);
      expect(put.stderr).toContain('InvalidArgument');
      expect(existsSync(path.join(os.tmpdir(), `${tmpName}._S3rver_object`))).toBe(false);

      const get = await cli(['s3api', 'get-object', '--bucket', 'bkt', '--key', '../other/secret.txt', path.join(root, 'got.txt')]);
      expect(get.code).not.toBe(0);
      expect(get.stderr).toMatch(/400|InvalidArgument/);
      expect(existsSync(path.join(root, 'got.txt'))).toBe(false);

      const del = await cli(['s3api', 'delete-object', '--bucket', 'bkt', '--key', '../other/secret.txt']);
      expect(del.code).not.toBe(0);
      expect(del.stderr).toContain('InvalidArgument');

      const copy = await cli([
        's3api',
        'copy-object',
        '--bucket',
        'bkt',
        '--key',
        'stolen.txt',
        '--copy-source',
        'bkt/../other/secret.txt',
      ]);
      expect(copy.code).not.toBe(0);
      expect(copy.stderr).toContain('InvalidArgument');

      const delMany = await cli(['s3api', 'delete-objects', '--bucket', 'bkt', '--delete', 'Objects=[{Key=../other/secret.txt}]']);
      expect(delMany.code).not.toBe(0);
      expect(delMany.stderr).toContain('InvalidArgument');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
