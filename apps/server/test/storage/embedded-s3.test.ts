import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { catchError, describeObjectStore, readText } from './object-store-contract.js';

const KEY = 'EMBEDDEDTESTKEY';
const SECRET = 'embedded-test-secret';
const tempDirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tc-embedded-test-'));
  tempDirs.push(d);
  return d;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function start(log?: (line: string) => void): Promise<EmbeddedS3> {
  return startEmbeddedS3({
    port: await freePort(),
    dir: path.join(tempDir(), 's3'),
    accessKeyId: KEY,
    secretAccessKey: SECRET,
    log: log ?? (() => {}),
  });
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

describeObjectStore('the embedded s3rver child', () => start());

describe('the embedded store', () => {
  let s3: EmbeddedS3;
  let store: S3ObjectStore;
  const logs: string[] = [];

  beforeAll(async () => {
    s3 = await start((l) => logs.push(l));
    store = new S3ObjectStore(createS3Client(s3));
    await store.createBucket('emb');
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('runs in its own process, bound to 127.0.0.1', async () => {
    expect(s3.pid).toBeGreaterThan(0);
    expect(s3.pid).not.toBe(process.pid);
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.region).toBe('us-east-1');
  });

  it('listens on another address only when told to (EMBEDDED_S3_HOST), and then not on loopback', async () => {
    // 127.0.0.2 is this machine too (all of 127/8 is loopback) but a different address: what a
    // cluster's bridge address is to the nodes.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-embedded-host-'));
    tempDirs.push(dir);
    const port = await freePort();
    const other = await startEmbeddedS3({
      port,
      host: '127.0.0.2',
      dir,
      accessKeyId: 'HOSTKEY',
      secretAccessKey: 'HOSTSECRET',
      log: () => undefined,
    });
    try {
      expect(other.endpoint).toBe(`http://127.0.0.2:${port}`);
      const there = new S3ObjectStore(createS3Client(other));
      await there.createBucket('elsewhere');
      expect(await there.listBuckets()).toContain('elsewhere');
      const loopback = await fetch(`http://127.0.0.1:${port}/`).then(
        () => 'answered',
        (err: { cause?: { code?: string } }) => err.cause?.code,
      );
      expect(loopback).toBe('ECONNREFUSED');
    } finally {
      await other.stop();
    }
  });

  it('verifies signatures: a wrong secret or an unknown key is refused', async () => {
    const wrongSecret = new S3ObjectStore(createS3Client({ ...s3, secretAccessKey: 'not-the-secret' }));
    const e = await catchError(wrongSecret.listFolder('emb', ''));
    expect(e.code).toBe('SignatureDoesNotMatch');
    expect(e.denied).toBe(true);
    const unknownKey = new S3ObjectStore(createS3Client({ ...s3, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }));
    expect((await catchError(unknownKey.listBuckets())).code).toBe('InvalidAccessKeyId');
    const anonymous = await fetch(`${s3.endpoint}/emb/`);
    expect(anonymous.status).toBe(403);
  });

  it('refuses a key with a 250-character last part cleanly and keeps serving', async () => {
    const longName = `data/${'n'.repeat(250)}.csv`;
    const e = await catchError(store.upload('emb', longName, 'a,b'));
    expect(e.code).toBe('KeyTooLongError');
    expect(e.message).toContain('at most 233 bytes');
    // The same through a stream (multipart path) and a third-party client.
    expect((await catchError(store.upload('emb', longName, Readable.from([Buffer.from('x')])))).code).toBe('KeyTooLongError');
    const file = path.join(tempDir(), 'f.csv');
    writeFileSync(file, 'a,b\n');
    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'aws',
        ['--endpoint-url', s3.endpoint, 's3', 'cp', file, `s3://emb/${longName}`],
        { env: { ...process.env, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_DEFAULT_REGION: 'us-east-1' } },
        (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('KeyTooLongError');

    // Reading or deleting such a key behaves as for any missing key.
    expect((await catchError(store.getStream('emb', longName))).code).toBe('NoSuchKey');
    // Nothing was left behind that would break listings, and the server never went away.
    await store.upload('emb', `data/${'m'.repeat(233)}`, 'longest name that fits');
    const keys = [];
    for await (const o of store.list('emb', 'data/')) keys.push(o.key);
    expect(keys).toEqual([`data/${'m'.repeat(233)}`]);
    expect(await readText(store, 'emb', `data/${'m'.repeat(233)}`)).toBe('longest name that fits');
    expect(s3.restarts).toBe(0);
  });

  it('restarts the server when its process dies, with the data kept', async () => {
    await store.upload('emb', 'kept.txt', 'still here');
    const before = s3.pid;
    process.kill(before!, 'SIGKILL');
    const after = await until('a new server process', () => (s3.pid && s3.pid !== before ? s3.pid : undefined), 10_000);
    expect(alive(before)).toBe(false);
    expect(alive(after)).toBe(true);
    expect(s3.restarts).toBe(1);
    expect(await readText(store, 'emb', 'kept.txt')).toBe('still here');
    expect(logs.some((l) => l.includes('died (SIGKILL)'))).toBe(true);
  });

  it('rejects when the port is taken by someone else, instead of passing their server off as its own', async () => {
    const squatter = http404Server();
    const port = await new Promise<number>((r) => squatter.listen(0, '127.0.0.1', () => r((squatter.address() as net.AddressInfo).port)));
    try {
      await expect(
        startEmbeddedS3({ port, dir: path.join(tempDir(), 's3'), accessKeyId: KEY, secretAccessKey: SECRET, log: () => {} }),
      ).rejects.toThrow(/exited during start-up[\s\S]*EADDRINUSE/);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('stop() ends the server process for good', async () => {
    const other = await start();
    const pid = other.pid;
    expect(alive(pid)).toBe(true);
    await other.stop();
    expect(alive(pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(other.pid).toBeUndefined();
    await other.stop();
  });
});

function http404Server(): net.Server {
  return net.createServer((sock) => sock.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
}

describe('the embedded store started from a process running under tsx', () => {
  const fixture = fileURLToPath(new URL('./fixtures/start-embedded.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

  function launch(port: number) {
    // From another working directory, as when the console is started from anywhere.
    const proc = spawn(process.execPath, ['--import', tsx, fixture, String(port), path.join(tempDir(), 's3')], {
      cwd: os.tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const line = (re: RegExp) =>
      until(
        `"${re.source}" from the fixture`,
        () => {
          const m = re.exec(out);
          if (!m && proc.exitCode !== null) throw new Error(`the fixture exited (${proc.exitCode}): ${err}`);
          return m ?? undefined;
        },
        30_000,
      );
    return { proc, line };
  }

  it('starts, serves and stops', async () => {
    const { proc, line } = launch(await freePort());
    const ready = await line(/ready (\d+) (\S+)/);
    expect(ready[2]).toBe('fixture');
    const childPid = Number(ready[1]);
    expect(alive(childPid)).toBe(true);
    proc.stdin.write('stop\n');
    await line(/stopped/);
    expect(alive(childPid)).toBe(false);
  });

  it('does not outlive a parent that is killed', async () => {
    const { proc, line } = launch(await freePort());
    const childPid = Number((await line(/ready (\d+)/))[1]);
    proc.kill('SIGKILL');
    await until('the orphaned server to exit', () => (alive(childPid) ? undefined : true), 10_000);
  });
});
