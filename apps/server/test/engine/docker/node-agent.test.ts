import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CAPABILITIES, DockerNodeAgent, agentContainerName, removeAgent } from '../../../src/engine/docker/docker-node-agent.js';
import { AgentError, type AgentCommand, type AgentMessage, type StageFile } from '../../../src/engine/node-agent.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../../src/storage/s3-object-store.js';
import { TEST_LABELS, TEST_RUN, buildTestImage, removeTestContainers, removeTestImages, testDocker } from '../../support/images.js';
import { startSwift, type SwiftS3 } from '../../support/swift.js';

const docker = testDocker();
const consoleId = `test-${TEST_RUN}`;
const UID = 1101;
const BUCKET = 'agent';
let nodeRoot: string;
let agent: DockerNodeAgent;

let embedded: EmbeddedS3;
let store: S3ObjectStore;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  // mkdtemp makes it 0700: the agent must still let the job's UID through to its own folder.
  nodeRoot = mkdtempSync(path.join(os.tmpdir(), 'tc-node-agent-'));
  embedded = await startEmbeddedS3({
    port: await freePort(),
    dir: `${nodeRoot}-s3`,
    accessKeyId: 'TESTKEY',
    secretAccessKey: 'TESTSECRET',
  });
  store = storeFor(embedded);
  await store.createBucket(BUCKET);
  agent = new DockerNodeAgent(docker, { consoleId, nodeRoot, labels: { ...TEST_LABELS } });
  await agent.ensure();
});

afterAll(async () => {
  await removeAgent(docker, consoleId);
  await removeTestContainers();
  await removeTestImages();
  await embedded?.stop();
  rmSync(nodeRoot, { recursive: true, force: true });
  rmSync(`${nodeRoot}-s3`, { recursive: true, force: true });
});

function storeFor(s: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }): S3ObjectStore {
  return new S3ObjectStore(
    createS3Client({ endpoint: s.endpoint, region: s.region, accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }),
  );
}

interface Outcome {
  messages: AgentMessage[];
  error: AgentError | null;
}

async function run(cmd: AgentCommand, signal?: AbortSignal, onMessage?: (m: AgentMessage) => void): Promise<Outcome> {
  const messages: AgentMessage[] = [];
  try {
    await agent.run(
      cmd,
      (m) => {
        messages.push(m);
        onMessage?.(m);
      },
      signal,
    );
    return { messages, error: null };
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    return { messages, error: err };
  }
}

async function runOk(cmd: AgentCommand): Promise<AgentMessage[]> {
  const { messages, error } = await run(cmd);
  if (error) throw error;
  expect(messages.at(-1)?.type).toBe('end');
  return messages;
}

async function put(s: S3ObjectStore, key: string, body: Buffer | string): Promise<StageFile & { body: Buffer }> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  await s.upload(BUCKET, key, bytes);
  return { key, path: key, size: bytes.length, url: await s.presign('GET', BUCKET, key, 300), body: bytes };
}

async function etagOf(s: S3ObjectStore, key: string): Promise<string> {
  for await (const o of s.list(BUCKET, key)) if (o.key === key) return o.etag ?? '';
  throw new Error(`no ${key}`);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function storedBytes(s: S3ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await s.getStream(BUCKET, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Stages a bare work folder with an outputs folder, and gives its host path. */
async function workFolder(workDir: string): Promise<string> {
  await runOk({ command: 'stage', input: { root: agent.agentPath(workDir), uid: UID, dirs: ['outputs'], groups: [] } });
  return agent.hostPath(workDir);
}

/** A file the job would have written: owned by its UID. */
function jobFile(file: string, content: Buffer | string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  chownSync(file, UID, UID);
}

describe('DockerNodeAgent: the container', () => {
  it('runs our image with only the listed capabilities, unprivileged, read-only, no-new-privileges, host network', async () => {
    const info = await docker.getContainer(agentContainerName(consoleId)).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.HostConfig.Privileged).toBe(false);
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    expect([...(info.HostConfig.CapAdd ?? [])].sort()).toEqual([...AGENT_CAPABILITIES].sort());
    expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Binds).toEqual([`${nodeRoot}:/node`]);
    expect(info.Config.Labels).toMatchObject({ 'tc.node-agent': '1', 'tc.console': consoleId });
    expect(info.Config.Labels['tc.managed']).toBeUndefined();

    // What the kernel says the agent's processes may do: the bounding set is exactly the list.
    const exec = await docker.getContainer(agentContainerName(consoleId)).exec({
      Cmd: ['/usr/bin/node', '-e', "process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8'))"],
      AttachStdout: true,
    });
    const out = await exec.start({});
    const chunks: Buffer[] = [];
    for await (const c of out) chunks.push(c as Buffer);
    const status = Buffer.concat(chunks).toString('latin1');
    const caps = (name: string): bigint => BigInt(`0x${new RegExp(`^${name}:\\s+([0-9a-f]+)`, 'm').exec(status)?.[1] ?? 'ff'}`);
    // CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, SETGID 6, SETUID 7.
    const allowed = (1n << 0n) | (1n << 1n) | (1n << 3n) | (1n << 6n) | (1n << 7n);
    expect(caps('CapBnd')).toBe(allowed);
    expect(caps('CapEff') & ~allowed).toBe(0n);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
  });

  it('reuses a running agent, and comes back when its container disappeared, stopped or was paused', async () => {
    const name = agentContainerName(consoleId);
    const before = (await docker.getContainer(name).inspect()).Id;
    const other = new DockerNodeAgent(docker, { consoleId, nodeRoot, labels: { ...TEST_LABELS } });
    await Promise.all([other.ensure(), other.ensure()]);
    expect((await docker.getContainer(name).inspect()).Id).toBe(before);

    await docker.getContainer(name).remove({ force: true });
    await runOk({ command: 'remove', input: { root: agent.agentPath('nothing/here') } });
    await docker.getContainer(name).stop({ t: 1 });
    await runOk({ command: 'remove', input: { root: agent.agentPath('nothing/here') } });
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
    // Paused under us (every exec refused): made afresh.
    const paused = (await docker.getContainer(name).inspect()).Id;
    await docker.getContainer(name).pause();
    await runOk({ command: 'remove', input: { root: agent.agentPath('nothing/here') } });
    const now = await docker.getContainer(name).inspect();
    expect(now.Id).not.toBe(paused);
    expect(now.State.Paused).toBe(false);
  });

  it('concurrent ensures of two instances make one container; one of another image is replaced', async () => {
    const name = agentContainerName(consoleId);
    // (Gone already when an earlier test's work removed it: that is fine.)
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
    const fresh = () => new DockerNodeAgent(docker, { consoleId, nodeRoot, labels: { ...TEST_LABELS } });
    await Promise.all([fresh().ensure(), fresh().ensure(), fresh().ensure()]);
    const list = await docker.listContainers({ all: true, filters: { name: [name] } });
    expect(list).toHaveLength(1);
    expect(list[0]!.State).toBe('running');
    const agentImage = list[0]!.ImageID;

    await docker.getContainer(name).remove({ force: true });
    const impostor = await docker.createContainer({
      name,
      Image: await buildTestImage('root'),
      Cmd: ['sleep', '1000'],
      Labels: { ...TEST_LABELS },
    });
    await impostor.start();
    await fresh().ensure();
    const info = await docker.getContainer(name).inspect();
    expect(info.Image).toBe(agentImage);
    expect(info.State.Running).toBe(true);
    await runOk({ command: 'remove', input: { root: agent.agentPath('nothing/here') } });
  });
});

describe('DockerNodeAgent: stage (embedded store)', () => {
  it('stages several groups with nested, spaced and unicode names, byte for byte, owned by the job', async () => {
    const code = [await put(store, 'code/train.py', 'print("hi")\n'), await put(store, 'code/lib/util s.py', 'x = 1\n')];
    const data = [
      await put(store, 'data/täglich/日本 語.csv', randomBytes(70_000)),
      await put(store, 'data/a/b/c/deep.bin', randomBytes(3)),
      await put(store, 'data/empty.txt', ''),
    ];
    const pinned = await etagOf(store, 'data/a/b/c/deep.bin');
    const staged = [
      ...code,
      ...data.map((f) => ({ ...f, path: f.key.replace(/^data\//, 'data/in/'), ...(f.key.endsWith('deep.bin') ? { etag: pinned } : {}) })),
    ];
    const strip = ({ body: _b, ...f }: StageFile & { body: Buffer }): StageFile => f;
    const messages = await runOk({
      command: 'stage',
      input: {
        root: agent.agentPath('stage/n0'),
        uid: UID,
        dirs: ['outputs', 'logs/deep'],
        groups: [
          { name: 'code', files: staged.slice(0, 2).map(strip) },
          { name: 'data', files: staged.slice(2).map(strip) },
          { name: 'nothing', files: [] },
        ],
      },
    });
    const host = agent.hostPath('stage/n0');
    for (const f of staged) {
      const file = path.join(host, f.path);
      expect(sha(readFileSync(file)), f.path).toBe(sha(f.body));
      const st = statSync(file);
      expect(st.uid).toBe(UID);
      expect(st.gid).toBe(UID);
      expect(st.mode & 0o777).toBe(0o644);
    }
    for (const d of ['', 'outputs', 'logs', 'logs/deep', 'data/in/täglich', 'data/in/a/b/c']) {
      const st = statSync(path.join(host, d));
      expect(st.isDirectory()).toBe(true);
      expect(st.uid, d).toBe(UID);
      expect(st.mode & 0o777, d).toBe(0o755);
    }
    const done = messages.filter((m) => m.type === 'done');
    expect(done).toContainEqual({ type: 'done', group: 'code', files: 2, bytes: 18 });
    expect(done).toContainEqual({ type: 'done', group: 'data', files: 3, bytes: 70_003 });
    expect(done).toContainEqual({ type: 'done', group: 'nothing', files: 0, bytes: 0 });
    expect(messages.at(-1)).toEqual({ type: 'end' });

    // Staging again starts from a fresh folder: what the job left there is gone.
    jobFile(path.join(host, 'outputs', 'left.txt'), 'old');
    await runOk({
      command: 'stage',
      input: { root: agent.agentPath('stage/n0'), uid: UID, dirs: [], groups: [{ name: 'code', files: staged.slice(0, 1).map(strip) }] },
    });
    expect(() => lstatSync(path.join(host, 'outputs'))).toThrow(/ENOENT/);
  });

  it('a missing object fails with not_found, naming the key and the group', async () => {
    const ok = await put(store, 'nf/ok.txt', 'ok');
    const url = await store.presign('GET', BUCKET, 'nf/missing.csv', 300);
    const { error, messages } = await run({
      command: 'stage',
      input: {
        root: agent.agentPath('nf/n0'),
        uid: UID,
        dirs: [],
        groups: [
          {
            name: 'data',
            files: [
              { key: ok.key, path: 'a/ok.txt', size: 2, url: ok.url },
              { key: 'nf/missing.csv', path: 'a/missing.csv', size: 10, url },
            ],
          },
        ],
      },
    });
    expect(error?.info).toMatchObject({ type: 'error', code: 'not_found', group: 'data', key: 'nf/missing.csv', status: 404 });
    expect(error?.message).toMatch(/nf\/missing\.csv/);
    expect(error?.message).toMatch(/NoSuchKey/);
    expect(messages.at(-1)?.type).toBe('error');
  });

  it('a different ETag or size fails with changed', async () => {
    const f = await put(store, 'chg/a.bin', randomBytes(1000));
    const root = agent.agentPath('chg/n0');
    const etag = await run({
      command: 'stage',
      input: {
        root,
        uid: UID,
        dirs: [],
        groups: [
          { name: 'data', files: [{ key: f.key, path: 'a.bin', size: 1000, url: f.url, etag: '"0123456789abcdef0123456789abcdef"' }] },
        ],
      },
    });
    expect(etag.error?.info?.code).toBe('changed');
    expect(etag.error?.message).toMatch(/chg\/a\.bin/);
    expect(etag.error?.message).toContain('0123456789abcdef0123456789abcdef');
    expect(etag.error?.message).toContain(await etagOf(store, f.key));

    const size = await run({
      command: 'stage',
      input: { root, uid: UID, dirs: [], groups: [{ name: 'data', files: [{ key: f.key, path: 'a.bin', size: 999, url: f.url }] }] },
    });
    expect(size.error?.info?.code).toBe('changed');
    expect(size.error?.message).toContain('the object chg/a.bin changed while staging: expected 999 bytes, got 1000');
  });

  it('refuses roots and paths that leave the node root', async () => {
    const f = await put(store, 'inv/a.txt', 'a');
    const file = { key: f.key, path: 'a.txt', size: 1, url: f.url };
    for (const root of ['/node/../etc', '/etc', '/node', '/node/', '/node/a//b', '/node/a/./b', 'node/a', '/node/a/']) {
      const { error } = await run({ command: 'stage', input: { root, uid: UID, dirs: [], groups: [{ name: 'g', files: [file] }] } });
      expect(error?.info?.code, root).toBe('invalid');
    }
    for (const p of ['../a.txt', '/a.txt', 'a/../../b', 'a//b', './a', '']) {
      const { error } = await run({
        command: 'stage',
        input: { root: '/node/inv/n0', uid: UID, dirs: [], groups: [{ name: 'g', files: [{ ...file, path: p }] }] },
      });
      expect(error?.info?.code, p).toBe('invalid');
    }
    const dir = await run({ command: 'stage', input: { root: '/node/inv/n0', uid: UID, dirs: ['../up'], groups: [] } });
    expect(dir.error?.info?.code).toBe('invalid');
    const rootUid = await run({ command: 'stage', input: { root: '/node/inv/n0', uid: 0, dirs: [], groups: [] } });
    expect(rootUid.error?.info?.code).toBe('invalid');
    for (const root of ['/node/../etc', '/etc']) {
      expect((await run({ command: 'remove', input: { root } })).error?.info?.code).toBe('invalid');
      expect((await run({ command: 'scan', input: { root, uid: UID } })).error?.info?.code).toBe('invalid');
    }
    expect(lstatSync('/etc/passwd').isFile()).toBe(true);
  });

  it('reports progress while a larger staging moves', async () => {
    const files: StageFile[] = [];
    const body = randomBytes(256 * 1024);
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const f = await put(store, `many/f${String(i).padStart(3, '0')}.bin`, body);
        files.push({ key: f.key, path: f.key, size: f.size, url: f.url });
      }),
    );
    const messages = await runOk({
      command: 'stage',
      input: { root: agent.agentPath('many/n0'), uid: UID, dirs: [], groups: [{ name: 'data', files }] },
    });
    const progress = messages.filter((m) => m.type === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    const doneAt = messages.findIndex((m) => m.type === 'done');
    expect(messages.slice(0, doneAt).some((m) => m.type === 'progress' && m.files < 200)).toBe(true);
    expect(messages[doneAt]).toEqual({ type: 'done', group: 'data', files: 200, bytes: 200 * 256 * 1024 });
    // Totals only grow.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
    expect(sha(readFileSync(path.join(agent.hostPath('many/n0'), 'many/f123.bin')))).toBe(sha(body));
  });

  it('an aborted command ends the agent process', async () => {
    const files: StageFile[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `many/f${String(i).padStart(3, '0')}.bin`;
      files.push({ key, path: key, size: 256 * 1024, url: await store.presign('GET', BUCKET, key, 300) });
    }
    const abort = new AbortController();
    const reason = new Error('stopped by the test');
    let progress = 0;
    const outcome = agent
      .run(
        {
          command: 'stage',
          input: { root: agent.agentPath('abort/n0'), uid: UID, dirs: [], groups: [{ name: 'data', files }], concurrency: 1 },
        },
        (m) => {
          if (m.type === 'progress' && m.bytes > 0 && progress++ === 0) abort.abort(reason);
        },
        abort.signal,
      )
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(await outcome).toBe(reason);
    const top = (await docker.getContainer(agentContainerName(consoleId)).top({ ps_args: '-eo pid,args' })) as { Processes: string[][] };
    const args = top.Processes.map((p) => p.join(' '));
    expect(args.filter((a) => / stage /.test(a))).toEqual([]);
    expect(args.some((a) => / idle$/.test(a))).toBe(true);
    // It stopped mid-way: not every file arrived.
    expect(
      execFileSync('find', [agent.hostPath('abort/n0'), '-type', 'f'])
        .toString()
        .trim()
        .split('\n').length,
    ).toBeLessThan(200);
  });

  it('an expired URL fails with denied', async () => {
    const f = await put(store, 'exp/a.txt', 'a');
    const url = await store.presign('GET', BUCKET, f.key, 1);
    await new Promise((r) => setTimeout(r, 2_100));
    const { error } = await run({
      command: 'stage',
      input: {
        root: agent.agentPath('exp/n0'),
        uid: UID,
        dirs: [],
        groups: [{ name: 'code', files: [{ key: f.key, path: 'a.txt', size: 1, url }] }],
      },
    });
    expect(error?.info).toMatchObject({ code: 'denied', status: 403, group: 'code', key: 'exp/a.txt' });
  });

  it('a store that is down fails with unavailable', async () => {
    const port = await freePort();
    const { error } = await run({
      command: 'stage',
      input: {
        root: agent.agentPath('down/n0'),
        uid: UID,
        dirs: [],
        groups: [{ name: 'code', files: [{ key: 'k', path: 'k', size: 1, url: `http://127.0.0.1:${port}/agent/k` }] }],
      },
    });
    expect(error?.info?.code).toBe('unavailable');
    expect(error?.message).toMatch(/ECONNREFUSED/);
  });
});

describe('DockerNodeAgent: scan and upload (embedded store)', () => {
  it('scan lists regular files only, skips links and special files, never looks outside', async () => {
    const host = await workFolder('scan/n0');
    const out = path.join(host, 'outputs');
    jobFile(path.join(out, 'model.bin'), randomBytes(1234));
    jobFile(path.join(out, 'sub dir/ü.txt'), 'hello');
    symlinkSync('/etc/passwd', path.join(out, 'passwd'));
    symlinkSync('/etc', path.join(out, 'etc'));
    symlinkSync('/node', path.join(out, 'sub dir', 'node'));
    execFileSync('mkfifo', [path.join(out, 'pipe')]);
    const messages = await runOk({ command: 'scan', input: { root: `${agent.agentPath('scan/n0')}/outputs`, uid: UID } });
    const files = messages.filter((m) => m.type === 'file');
    // The modification time lets checkpoint uploads send only what changed.
    expect(files).toEqual([
      { type: 'file', path: 'model.bin', size: 1234, mtimeMs: expect.any(Number) },
      { type: 'file', path: 'sub dir/ü.txt', size: 5, mtimeMs: expect.any(Number) },
    ]);
    const skipped = messages.filter((m) => m.type === 'skipped');
    expect(skipped).toEqual(
      expect.arrayContaining([
        { type: 'skipped', path: 'passwd', kind: 'link' },
        { type: 'skipped', path: 'etc', kind: 'link' },
        { type: 'skipped', path: 'sub dir/node', kind: 'link' },
        { type: 'skipped', path: 'pipe', kind: 'special' },
      ]),
    );
    expect(skipped).toHaveLength(4);
    expect(messages.at(-1)).toEqual({ type: 'end', files: 2, bytes: 1239 });
  });

  it('scan of an outputs folder that is a link lists nothing; of a missing one, nothing either', async () => {
    const host = await workFolder('scanlink/n0');
    rmSync(path.join(host, 'outputs'), { recursive: true });
    symlinkSync('/etc', path.join(host, 'outputs'));
    const linked = await runOk({ command: 'scan', input: { root: `${agent.agentPath('scanlink/n0')}/outputs`, uid: UID } });
    expect(linked).toEqual([
      { type: 'skipped', path: '', kind: 'link' },
      { type: 'end', files: 0, bytes: 0 },
    ]);
    rmSync(path.join(host, 'outputs'));
    const missing = await runOk({ command: 'scan', input: { root: `${agent.agentPath('scanlink/n0')}/outputs`, uid: UID } });
    expect(missing).toEqual([{ type: 'end', files: 0, bytes: 0 }]);
  });

  it('uploads files, a large one in parts, byte for byte', async () => {
    const host = await workFolder('up/n0');
    const out = path.join(host, 'outputs');
    const small = randomBytes(10_000);
    const big = randomBytes(5 * 1024 * 1024 + 1000);
    jobFile(path.join(out, 'metrics.json'), '{"loss":0.1}');
    jobFile(path.join(out, 'ckpt/weights ü.bin'), small);
    jobFile(path.join(out, 'ckpt/big.bin'), big);
    jobFile(path.join(out, 'empty'), '');
    const uploadId = await store.startMultipart(BUCKET, 'out/ckpt/big.bin');
    const messages = await runOk({
      command: 'upload',
      input: {
        root: `${agent.agentPath('up/n0')}/outputs`,
        uid: UID,
        files: [
          { path: 'metrics.json', size: 12, url: await store.presign('PUT', BUCKET, 'out/metrics.json', 300) },
          { path: 'ckpt/weights ü.bin', size: small.length, url: await store.presign('PUT', BUCKET, 'out/ckpt/weights ü.bin', 300) },
          { path: 'empty', size: 0, url: await store.presign('PUT', BUCKET, 'out/empty', 300) },
          {
            path: 'ckpt/big.bin',
            size: big.length,
            parts: [
              { url: await store.presignPart(BUCKET, 'out/ckpt/big.bin', uploadId, 1, 300), size: 5 * 1024 * 1024 },
              { url: await store.presignPart(BUCKET, 'out/ckpt/big.bin', uploadId, 2, 300), size: 1000 },
            ],
          },
        ],
      },
    });
    const parts = messages.find((m) => m.type === 'parts');
    expect(parts).toMatchObject({ type: 'parts', path: 'ckpt/big.bin' });
    const etags = parts?.type === 'parts' ? parts.etags : [];
    expect(etags).toHaveLength(2);
    await store.completeMultipart(BUCKET, 'out/ckpt/big.bin', uploadId, etags);
    expect(messages.at(-1)).toEqual({ type: 'end', files: 4, bytes: 12 + small.length + big.length });
    expect((await storedBytes(store, 'out/metrics.json')).toString()).toBe('{"loss":0.1}');
    expect(sha(await storedBytes(store, 'out/ckpt/weights ü.bin'))).toBe(sha(small));
    expect(sha(await storedBytes(store, 'out/ckpt/big.bin'))).toBe(sha(big));
    expect((await storedBytes(store, 'out/empty')).length).toBe(0);
  });

  it('upload never reads through a link the job planted', async () => {
    const host = await workFolder('uplink/n0');
    const out = path.join(host, 'outputs');
    symlinkSync('/etc', path.join(out, 'etc'));
    symlinkSync('/etc/hostname', path.join(out, 'hostname'));
    const size = statSync('/etc/hostname').size;
    for (const p of ['etc/hostname', 'hostname']) {
      const { error } = await run({
        command: 'upload',
        input: {
          root: `${agent.agentPath('uplink/n0')}/outputs`,
          uid: UID,
          files: [{ path: p, size, url: await store.presign('PUT', BUCKET, `leak/${p}`, 300) }],
        },
      });
      expect(error?.info, p).toMatchObject({ code: 'failed', path: p });
      await expect(store.getStream(BUCKET, `leak/${p}`)).rejects.toThrow(/NoSuchKey/);
    }
    // The outputs folder itself swapped for a link: refused as a whole.
    rmSync(out, { recursive: true });
    symlinkSync('/etc', out);
    const { error } = await run({
      command: 'upload',
      input: {
        root: `${agent.agentPath('uplink/n0')}/outputs`,
        uid: UID,
        files: [{ path: 'hostname', size, url: await store.presign('PUT', BUCKET, 'leak/x', 300) }],
      },
    });
    expect(error?.info?.code).toBe('failed');
  });

  it('remove deletes a work folder, links inside it and not what they point at', async () => {
    const host = await workFolder('rm/n0');
    jobFile(path.join(host, 'outputs', 'a.txt'), 'a');
    symlinkSync('/etc', path.join(host, 'outputs', 'etc'));
    await runOk({ command: 'remove', input: { root: agent.agentPath('rm/n0') } });
    expect(() => lstatSync(host)).toThrow(/ENOENT/);
    expect(lstatSync('/etc/hostname').isFile()).toBe(true);
  });
});

describe('DockerNodeAgent against Swift (checks signatures, holds long keys)', () => {
  let swift: SwiftS3;
  let swiftStore: S3ObjectStore;

  beforeAll(async () => {
    swift = await startSwift();
    swiftStore = storeFor(swift);
    await swiftStore.createBucket(BUCKET);
  });

  afterAll(async () => {
    await swift?.stop();
  });

  it('stages with presigned URLs it verifies, ETags pinned', async () => {
    const files = [await put(swiftStore, 'data/a b/ü.csv', randomBytes(100_000)), await put(swiftStore, 'data/x+y(1).txt', 'plus')];
    const input = await Promise.all(files.map(async ({ body: _b, ...f }) => ({ ...f, etag: await etagOf(swiftStore, f.key) })));
    const messages = await runOk({
      command: 'stage',
      input: { root: agent.agentPath('swift/n0'), uid: UID, dirs: [], groups: [{ name: 'data', files: input }] },
    });
    expect(messages.find((m) => m.type === 'done')).toEqual({ type: 'done', group: 'data', files: 2, bytes: 100_004 });
    for (const f of files) expect(sha(readFileSync(path.join(agent.hostPath('swift/n0'), f.path)))).toBe(sha(f.body));
    const tampered = files[1]!.url.replace(/X-Amz-Signature=[0-9a-f]/, (s) => `${s.slice(0, -1)}${s.endsWith('0') ? '1' : '0'}`);
    const { error } = await run({
      command: 'stage',
      input: {
        root: agent.agentPath('swift/n0'),
        uid: UID,
        dirs: [],
        groups: [{ name: 'data', files: [{ ...input[1]!, url: tampered }] }],
      },
    });
    expect(error?.info?.code).toBe('denied');
    expect(error?.message).toMatch(/SignatureDoesNotMatch/);
  });

  it('uploads in parts, and a key the store refuses (400) is reported while the rest go on', async () => {
    const host = await workFolder('swiftup/n0');
    const out = path.join(host, 'outputs');
    const big = randomBytes(5 * 1024 * 1024 + 10);
    jobFile(path.join(out, 'big.bin'), big);
    jobFile(path.join(out, 'long.txt'), 'long');
    jobFile(path.join(out, 'ok.txt'), 'ok');
    const longKey = `out/${'k'.repeat(1100)}`;
    const uploadId = await swiftStore.startMultipart(BUCKET, 'out/big.bin');
    const messages = await runOk({
      command: 'upload',
      input: {
        root: `${agent.agentPath('swiftup/n0')}/outputs`,
        uid: UID,
        concurrency: 1,
        files: [
          { path: 'long.txt', size: 4, url: await swiftStore.presign('PUT', BUCKET, longKey, 300) },
          {
            path: 'big.bin',
            size: big.length,
            parts: [
              { url: await swiftStore.presignPart(BUCKET, 'out/big.bin', uploadId, 1, 300), size: 5 * 1024 * 1024 },
              { url: await swiftStore.presignPart(BUCKET, 'out/big.bin', uploadId, 2, 300), size: 10 },
            ],
          },
          { path: 'ok.txt', size: 2, url: await swiftStore.presign('PUT', BUCKET, 'out/ok.txt', 300) },
        ],
      },
    });
    const refused = messages.find((m) => m.type === 'refused');
    expect(refused).toMatchObject({ type: 'refused', path: 'long.txt', status: 400 });
    expect(refused?.type === 'refused' ? refused.message : '').toMatch(/KeyTooLong/);
    const parts = messages.find((m) => m.type === 'parts');
    await swiftStore.completeMultipart(BUCKET, 'out/big.bin', uploadId, parts?.type === 'parts' ? parts.etags : []);
    expect(sha(await storedBytes(swiftStore, 'out/big.bin'))).toBe(sha(big));
    expect((await storedBytes(swiftStore, 'out/ok.txt')).toString()).toBe('ok');
    expect(messages.at(-1)).toEqual({ type: 'end', files: 2, bytes: big.length + 2 });
  });
});
