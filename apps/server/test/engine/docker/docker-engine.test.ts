import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContainerGoneError, EngineDeadlineError, type ContainerSpec, type LogLineEvent } from '../../../src/engine/container-engine.js';
import { DockerEngine, createDockerClient, sinceParam } from '../../../src/engine/docker/docker-engine.js';
import {
  TEST_LABELS,
  TEST_RUN,
  buildLabelledImage,
  buildTestImage,
  removeTestContainers,
  removeTestImages,
  testDocker,
} from '../../support/images.js';

const engine = new DockerEngine({ docker: testDocker(), helperLabels: { ...TEST_LABELS, 'tc.role': 'image-probe' } });
const MiB = 1024 ** 2;
const UID = 1101;

let userImage: string;
let rootImage: string;
let fileImage: string;
let seq = 0;

function spec(cmd: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  seq += 1;
  return {
    name: `tc-test-${TEST_RUN}-${seq}`,
    image: userImage,
    cmd: ['/bin/sh', '-c', cmd],
    env: { DLS_TASK_INDEX: '0', GREETING: 'hello world' },
    labels: { ...TEST_LABELS, 'tc.case': String(seq) },
    hostname: `node-${seq}`,
    nanoCpus: 1e9,
    memoryBytes: 256 * MiB,
    pidsLimit: 256,
    networkMode: 'none',
    ...over,
  };
}

interface TarFile {
  name: string;
  content?: string | Buffer;
  uid?: number;
  dir?: boolean;
  mode?: number;
}

/** A tar built as the runner builds its staging tar: explicit folders, owner in each header. */
function tarOf(files: TarFile[]): Readable {
  const pack = tar.pack();
  for (const f of files) {
    const owner = { uid: f.uid ?? UID, gid: f.uid ?? UID };
    if (f.dir) pack.entry({ name: f.name, type: 'directory', mode: f.mode ?? 0o755, ...owner });
    else pack.entry({ name: f.name, mode: f.mode ?? 0o644, ...owner }, f.content ?? '');
  }
  pack.finalize();
  // tar-stream's typings are not Node's Readable; a PassThrough is, as the runner's would be.
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

const skeleton: TarFile[] = [
  'home/work/',
  'home/work/user-job-dir/',
  'home/work/user-job-dir/code/',
  'home/work/data/',
  'home/work/outputs/',
].map((name) => ({
  name,
  dir: true,
}));

async function readTar(stream: Readable): Promise<Map<string, { type: string; content: string; uid: number }>> {
  const out = new Map<string, { type: string; content: string; uid: number }>();
  const extract = tar.extract();
  stream.pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.set(entry.header.name, {
      type: entry.header.type ?? 'file',
      content: Buffer.concat(chunks).toString('utf8'),
      uid: entry.header.uid ?? -1,
    });
  }
  return out;
}

/** create → (files) → start → follow → wait, the way the runner drives it. */
async function runToEnd(
  s: ContainerSpec,
  files: TarFile[] = [],
): Promise<{ id: string; lines: LogLineEvent[]; exitCode: number; oomKilled: boolean }> {
  const id = await engine.createContainer(s);
  if (files.length) await engine.putArchive(id, '/', tarOf(files));
  await engine.start(id);
  const lines: LogLineEvent[] = [];
  const logs = engine.followLogs(id, (l) => lines.push(l));
  const exit = await engine.wait(id);
  await logs;
  return { id, lines, ...exit };
}

const texts = (lines: LogLineEvent[], stream?: 'stdout' | 'stderr'): string[] =>
  lines.filter((l) => !stream || l.stream === stream).map((l) => l.text);

beforeAll(async () => {
  [userImage, rootImage, fileImage] = await Promise.all([
    buildTestImage('user1101'),
    buildTestImage('root'),
    buildLabelledImage({
      tag: `tc-test/files:${TEST_RUN}`,
      user: '1101',
      extraFiles: [
        { path: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nwork:x:1101:1101::/home/work:/bin/sh\n' },
        { path: '/etc/real-group', content: 'work:x:1101:\n' },
        { path: '/opt/big.txt', content: 'x'.repeat(5000) },
      ],
      run: [['/bin/ln', '-s', 'real-group', '/etc/group']],
    }),
  ]);
});

afterAll(async () => {
  await removeTestContainers();
  await removeTestImages();
});

describe('DockerEngine against the real engine', () => {
  it('answers ping and reports capacity', async () => {
    await engine.ping();
    const cap = await engine.capacity();
    expect(cap.vcpus).toBeGreaterThan(0);
    expect(cap.memoryGiB).toBeGreaterThan(0.5);
    expect(cap.gpus).toBeGreaterThanOrEqual(0);
  });

  it('fails ping with a clear message when the engine is not there', async () => {
    const nowhere = new DockerEngine(createDockerClient('unix:///tmp/tc-no-such-docker.sock'));
    await expect(nowhere.ping()).rejects.toThrow(/the Docker engine does not answer: .*ENOENT/);
  });

  it('runs the round trip: create, putArchive, start, followLogs, wait, getArchive, remove', async () => {
    const script =
      'echo "training $GREETING as $(id -u) on $(hostname)"; cat /home/work/data/in.txt; echo model > /home/work/outputs/model.txt; mkdir /home/work/outputs/ckpt; echo 1 > /home/work/outputs/ckpt/step1';
    const s = spec('sh /home/work/user-job-dir/code/train.sh');
    const { id, lines, exitCode, oomKilled } = await runToEnd(s, [
      ...skeleton,
      { name: 'home/work/user-job-dir/code/train.sh', content: script },
      { name: 'home/work/data/in.txt', content: 'the data\n' },
    ]);
    expect({ exitCode, oomKilled }).toEqual({ exitCode: 0, oomKilled: false });
    expect(texts(lines)).toEqual([`training hello world as ${UID} on ${s.hostname}`, 'the data']);

    const files = await readTar(await engine.getArchive(id, '/home/work/outputs'));
    expect(files.get('outputs/model.txt')).toMatchObject({ content: 'model\n', uid: UID });
    expect(files.get('outputs/ckpt/step1')?.content).toBe('1\n');
    expect(files.get('outputs/ckpt/')?.type).toBe('directory');

    const mine = { 'tc.test.run': TEST_RUN, 'tc.case': s.labels['tc.case']! };
    expect((await engine.listManaged(mine)).map((c) => c.id)).toEqual([id]);
    await engine.remove(id);
    expect(await engine.listManaged(mine)).toEqual([]);
    await engine.remove(id); // a second removal is not an error
  });

  it('lets the image user 1101 write where putArchive made 1101-owned folders, and only there', async () => {
    const { lines, exitCode } = await runToEnd(
      spec(
        [
          'set -e',
          'ls -ln /home/work/data/in.txt | awk \'{print "data owner " $3}\'',
          'cat /home/work/data/in.txt',
          'echo written > /home/work/outputs/new.txt && echo outputs writable',
          'touch /home/work/user-job-dir/code/scratch && echo code dir writable',
          'touch /home/work/data/more && echo data dir writable',
          'if touch /opt/locked/x 2>/dev/null; then echo root dir writable; else echo root dir refused; fi',
          'if touch /srv/x 2>/dev/null; then echo implicit parent writable; else echo implicit parent refused; fi',
        ].join('\n'),
      ),
      [
        ...skeleton,
        { name: 'home/work/data/in.txt', content: 'readable\n' },
        { name: 'opt/locked/', dir: true, uid: 0 },
        // No entry for srv/: the engine makes the missing parent, owned by root.
        { name: 'srv/sub/file.txt', content: 'x' },
      ],
    );
    expect(texts(lines)).toEqual([
      `data owner ${UID}`,
      'readable',
      'outputs writable',
      'code dir writable',
      'data dir writable',
      'root dir refused',
      'implicit parent refused',
    ]);
    expect(exitCode).toBe(0);
  });

  it('passes the exit code on and separates stdout from stderr, in order, with the last unterminated line', async () => {
    const t0 = Date.now();
    const { lines, exitCode } = await runToEnd(
      spec('echo out1; echo err1 >&2; echo out2; echo err2 >&2; echo; printf "no newline"; exit 3'),
    );
    expect(exitCode).toBe(3);
    expect(texts(lines, 'stdout')).toEqual(['out1', 'out2', '', 'no newline']);
    expect(texts(lines, 'stderr')).toEqual(['err1', 'err2']);
    for (const l of lines) {
      expect(l.at.getTime()).toBeGreaterThanOrEqual(t0 - 2000);
      expect(l.at.getTime()).toBeLessThanOrEqual(Date.now() + 2000);
    }
    // In time order within a stream; across the two the engine's file order can be off by a
    // millisecond or so (each stream is stamped by its own goroutine), so no more is promised.
    for (const stream of ['stdout', 'stderr'] as const) {
      const at = lines.filter((l) => l.stream === stream).map((l) => l.at.getTime());
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    }
  });

  it('delivers a last line without newline every time, though the engine follow sometimes drops it', async () => {
    // About 1 run in 10 lost it before the catch-up request; 20 runs make a regression visible.
    const runs = Array.from({ length: 20 }, (_, i) => i);
    const results: string[][] = [];
    for (let i = 0; i < runs.length; i += 5) {
      const batch = await Promise.all(
        runs.slice(i, i + 5).map(async (k) => texts((await runToEnd(spec(`echo first; printf "last ${k}"`))).lines)),
      );
      results.push(...batch);
    }
    expect(results).toEqual(runs.map((k) => ['first', `last ${k}`]));
  });

  it('delivers the whole log of a container that has already exited', async () => {
    const id = await engine.createContainer(spec('echo a; echo b >&2; printf c'));
    await engine.start(id);
    expect((await engine.wait(id)).exitCode).toBe(0);
    const lines: LogLineEvent[] = [];
    await engine.followLogs(id, (l) => lines.push(l));
    // Between the two streams the engine's order is whoever's copier wrote first.
    expect(texts(lines, 'stdout')).toEqual(['a', 'c']);
    expect(texts(lines, 'stderr')).toEqual(['b']);
    await engine.remove(id);
    // A container that is gone says so, as the port's own error.
    await expect(engine.followLogs(id, () => undefined)).rejects.toBeInstanceOf(ContainerGoneError);
  });

  it('joins lines longer than the engine 16 KiB message size', async () => {
    const wide = `x${'é'.repeat(20000)}`;
    const { lines } = await runToEnd(spec('head -c 100000 /dev/zero | tr "\\0" a; echo; cat /home/work/data/wide.txt; echo after'), [
      ...skeleton,
      { name: 'home/work/data/wide.txt', content: `${wide}\n` },
    ]);
    expect(lines.map((l) => l.text)).toEqual(['a'.repeat(100000), expect.any(String), 'after']);
    // The json-file driver stores each 16 KiB piece as a JSON string, so a character cut by a
    // piece boundary is already two U+FFFD in the engine's file (`docker logs` shows the same):
    // lost before it reaches us. Everything else of the line arrives, in one line.
    expect(lines[1]!.text.replace(/\uFFFD\uFFFD/g, 'é')).toBe(wide);
  });

  it('follows 200,000 lines at full speed, every one once and in order', async () => {
    const n = 200_000;
    const t0 = Date.now();
    const { lines, exitCode } = await runToEnd(spec(`seq 1 ${n}`));
    const ms = Date.now() - t0;
    expect(exitCode).toBe(0);
    expect(lines.length).toBe(n);
    let bad = -1;
    for (let i = 0; i < n; i++) {
      if (lines[i]!.text !== String(i + 1) || lines[i]!.stream !== 'stdout') {
        bad = i;
        break;
      }
    }
    expect(bad, bad >= 0 ? `line ${bad} is ${JSON.stringify(lines[bad])}` : '').toBe(-1);
    expect(ms).toBeLessThan(30_000);
  });

  it('resumes from `since` to the millisecond: exactly the lines stamped at or after it', async () => {
    const { id, lines } = await runToEnd(spec('i=0; while [ $i -lt 6 ]; do echo line$i; echo err$i >&2; i=$((i+1)); sleep 0.05; done'));
    expect(lines.length).toBe(12);
    const since = lines[5]!.at;
    const again: LogLineEvent[] = [];
    await engine.followLogs(id, (l) => again.push(l), since);
    expect(again).toEqual(lines.filter((l) => l.at.getTime() >= since.getTime()));
    expect(again.length).toBeLessThan(lines.length);
    expect(sinceParam(new Date(1700000000123))).toBe('1700000000.123000000');
  });

  it('applies the limits and the hardening, and leaves the user to the image', async () => {
    const s = spec('exit 0', { memoryBytes: 300 * MiB, nanoCpus: 1.5e9, pidsLimit: 77, workingDir: '/home/work' });
    const id = await engine.createContainer(s);
    const info = await testDocker().getContainer(id).inspect();
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 1.5e9,
      Memory: 300 * MiB,
      MemorySwap: 300 * MiB,
      PidsLimit: 77,
      Init: true,
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      NetworkMode: 'none',
      AutoRemove: false,
    });
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    // The image's own default user (1101:1101), not one set by the engine.
    expect(info.Config).toMatchObject({ User: '1101:1101', Hostname: s.hostname, WorkingDir: '/home/work', Cmd: s.cmd, Tty: false });
    expect(info.Config.Env).toEqual(expect.arrayContaining(['DLS_TASK_INDEX=0', 'GREETING=hello world']));
    expect(info.Config.Labels).toMatchObject(s.labels);
    await engine.remove(id);
  });

  it('reports an out-of-memory kill as 137 with oomKilled', async () => {
    // The engine misses an OOM kill now and then under load (see wait()); a few tries keep this
    // about our code rather than that race.
    const seen: Array<{ exitCode: number; oomKilled: boolean }> = [];
    for (let i = 0; i < 3 && !seen.some((r) => r.oomKilled); i++) {
      // tail keeps the current "line" in memory, and /dev/zero never ends one.
      const { exitCode, oomKilled } = await runToEnd(spec('tail /dev/zero', { memoryBytes: 16 * MiB }));
      seen.push({ exitCode, oomKilled });
    }
    expect(seen.every((r) => r.exitCode === 137)).toBe(true);
    expect(seen.at(-1)).toEqual({ exitCode: 137, oomKilled: true });
  });

  it('stops a shell at once on SIGTERM thanks to the init process', async () => {
    const id = await engine.createContainer(spec('echo up; sleep 300'));
    await engine.start(id);
    const lines: LogLineEvent[] = [];
    const logs = engine.followLogs(id, (l) => lines.push(l));
    await waitUntil(() => lines.length > 0);
    const t0 = Date.now();
    await engine.stop(id, 30);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await engine.wait(id)).toEqual({ exitCode: 143, oomKilled: false });
    await logs;
    expect(texts(lines)).toEqual(['up']);
    await engine.stop(id, 1); // already stopped: 304, tolerated
    await engine.remove(id);
    await engine.stop(id, 1); // gone: tolerated
  });

  it('kills a command that ignores SIGTERM when the grace period ends', async () => {
    const id = await engine.createContainer(spec('trap "" TERM; echo up; while true; do sleep 0.1; done'));
    await engine.start(id);
    const lines: LogLineEvent[] = [];
    const logs = engine.followLogs(id, (l) => lines.push(l));
    await waitUntil(() => lines.length > 0);
    const t0 = Date.now();
    await engine.stop(id, 1);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(8000);
    expect((await engine.wait(id)).exitCode).toBe(137);
    await logs;
  });

  it("runs the boot command, not the image's ENTRYPOINT (which would get it as arguments)", async () => {
    const smuggler = await buildLabelledImage({
      tag: `tc-test/entrypoint:${TEST_RUN}`,
      user: '1101:1101',
      entrypoint: ['/bin/sh', '-c', 'echo IMAGE-ENTRYPOINT-RAN; exit 3'],
    });
    const { lines, exitCode, id } = await runToEnd(spec('echo boot-command-ran', { image: smuggler }));
    expect(texts(lines)).toEqual(['boot-command-ran']);
    expect(exitCode).toBe(0);
    expect((await testDocker().getContainer(id).inspect()).Config.Entrypoint ?? []).toEqual([]);
    await engine.remove(id);
  });

  it('runs a root image too (the image check, not the engine, refuses it)', async () => {
    const { lines } = await runToEnd(spec('id -u', { image: rootImage }));
    expect(texts(lines)).toEqual(['0']);
  });

  it('inspects images: null when absent, the ID and default user when present', async () => {
    expect(await engine.inspectImage(`tc-test/absent:${TEST_RUN}`)).toBeNull();
    const u = await engine.inspectImage(userImage);
    expect(u).toEqual({ id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), user: '1101:1101', repoDigests: [] });
    expect(await engine.inspectImage(u!.id)).toEqual(u);
    expect(await engine.inspectImage(rootImage)).toEqual({ id: expect.stringMatching(/^sha256:/), user: '', repoDigests: [] });
  });

  it('rejects a pull that cannot succeed with the engine message, promptly', async () => {
    const t0 = Date.now();
    const ref = `tc-test-registry.invalid/nobody/absent:${TEST_RUN}`;
    const err = await engine.pullImage(ref).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    // The engine's own words, which name the registry it could not reach.
    expect(err!.message).toContain('tc-test-registry.invalid');
    expect(err!.message).not.toMatch(/HTTP code|server error/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('reads a file out of an image without starting it, following links; null when absent', async () => {
    expect(await engine.readImageFile(userImage, '/etc/passwd', 1 << 20)).toBeNull();
    expect(await engine.readImageFile(fileImage, '/etc/passwd', 1 << 20)).toBe(
      'root:x:0:0:root:/root:/bin/sh\nwork:x:1101:1101::/home/work:/bin/sh\n',
    );
    expect(await engine.readImageFile(fileImage, '/etc/group', 1 << 20)).toBe('work:x:1101:\n');
    expect(await engine.readImageFile(fileImage, '/opt/big.txt', 100)).toBe('x'.repeat(100));
    expect(await engine.readImageFile(fileImage, '/etc', 1 << 20)).toBeNull();
    await expect(engine.readImageFile(`tc-test/absent:${TEST_RUN}`, '/etc/passwd', 100)).rejects.toThrow(
      /^reading \/etc\/passwd from image tc-test\/absent:\S+ failed: No such image/,
    );
    expect(await engine.listManaged({ 'tc.role': 'image-probe', 'tc.test.run': TEST_RUN })).toEqual([]);
  });

  it('lists managed containers by label, stopped ones included', async () => {
    const tag = { 'tc.list': `${TEST_RUN}-${Date.now()}` };
    const a = await engine.createContainer(spec('exit 0', { labels: { ...TEST_LABELS, ...tag, which: 'a' } }));
    const b = (await runToEnd(spec('exit 0', { labels: { ...TEST_LABELS, ...tag, which: 'b' } }))).id;
    const found = await engine.listManaged(tag);
    expect(found.map((c) => [c.id, c.labels.which, c.state]).sort()).toEqual(
      [
        [a, 'a', 'created'],
        [b, 'b', 'exited'],
      ].sort(),
    );
    expect(await engine.listManaged({ ...tag, which: 'b' })).toHaveLength(1);
    await expect(engine.listManaged({})).rejects.toThrow(/at least one label/);
    await Promise.all([engine.remove(a), engine.remove(b)]);
  });

  it('explains engine failures in their own words', async () => {
    await expect(engine.createContainer(spec('true', { image: `tc-test/absent:${TEST_RUN}` }))).rejects.toThrow(
      /^No such image: tc-test\/absent/,
    );
    const id = await engine.createContainer(spec('true'));
    await expect(engine.getArchive(id, '/home/work/outputs')).rejects.toThrow(
      /^Could not find the file \/home\/work\/outputs in container/,
    );
    await engine.remove(id);
    const orphan = tarOf([{ name: 'a.txt', content: 'a' }]);
    await expect(engine.putArchive(id, '/', orphan)).rejects.toThrow(/was removed outside the console/);
    expect(orphan.destroyed).toBe(true);
    await expect(engine.wait(id)).rejects.toBeInstanceOf(ContainerGoneError);
    await expect(engine.getArchive(id, '/home/work/outputs')).rejects.toBeInstanceOf(ContainerGoneError);
  });

  it('turns the missing GPU driver into a message that says what to do', async () => {
    const info = await testDocker().info();
    const runtimes = JSON.stringify(info.Runtimes ?? {});
    if (runtimes.includes('nvidia')) return; // this engine has GPUs; nothing to translate
    const id = await engine.createContainer({ ...spec('nvidia-smi'), gpus: 1 });
    await expect(engine.start(id)).rejects.toThrow(
      /the engine cannot provide GPUs: .*NVIDIA Container Toolkit.*could not select device driver "nvidia"/,
    );
    await engine.remove(id);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('DockerEngine against an engine that hangs', () => {
  // A server that takes the request and never answers (or sends headers and then nothing): what
  // an overloaded engine, or one holding a container lock, looks like from the console.
  let server: Server;
  let engine: DockerEngine;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.includes('/archive')) {
        res.writeHead(200, { 'content-type': 'application/x-tar' });
        res.flushHeaders();
      }
      // Otherwise: no answer at all.
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    engine = new DockerEngine({ dockerHost: `http://127.0.0.1:${port}`, callDeadlineMs: 300, streamIdleMs: 300 });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('fails each call on the way to a job end with a deadline error naming the call', async () => {
    await expect(engine.remove('abc')).rejects.toThrow(/^removing the container: the engine did not answer within 300 ms/);
    await expect(engine.remove('abc')).rejects.toBeInstanceOf(EngineDeadlineError);
    await expect(engine.stop('abc', 0)).rejects.toBeInstanceOf(EngineDeadlineError);
    await expect(engine.createContainer({ ...spec('true'), image: 'x' })).rejects.toBeInstanceOf(EngineDeadlineError);
    await expect(engine.start('abc')).rejects.toBeInstanceOf(EngineDeadlineError);
    await expect(engine.listManaged({ 'tc.managed': '1' })).rejects.toBeInstanceOf(EngineDeadlineError);
    await expect(engine.removeNetwork('n')).rejects.toBeInstanceOf(EngineDeadlineError);
  });

  it('fails an archive that stops moving, and closes it', async () => {
    const archive = await engine.getArchive('abc', '/home/work/outputs');
    const reading = (async () => {
      for await (const _ of archive) void _;
    })();
    await expect(reading).rejects.toThrow(/copying out of the container stalled/);
    expect(archive.destroyed).toBe(true);
  });
});
