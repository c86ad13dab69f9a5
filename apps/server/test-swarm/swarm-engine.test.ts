import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContainerGoneError,
  HostLostError,
  type ContainerSpec,
  type EngineNode,
  type LogLineEvent,
} from '../src/engine/container-engine.js';
import { createDockerClient } from '../src/engine/docker/docker-engine.js';
import { SwarmEngine } from '../src/engine/swarm/swarm-engine.js';
import { TEST_LABELS, TEST_RUN } from '../test/support/images.js';
import {
  LAB_DIR,
  LAB_HOST_ADDR,
  LAB_REGISTRY,
  ensureSwarmLab,
  managerDocker,
  nodeSocket,
  pushedTestImage,
} from '../test/support/swarm-lab.js';

const run = promisify(execFile);
const MiB = 1024 ** 2;
/** What this file makes, and nothing else, is removed at the end: the lab is shared. */
const MINE = { ...TEST_LABELS, 'tc.test.file': 'swarm-engine' };
const GRACE = 3;

const engine = new SwarmEngine(managerDocker(), {
  registry: LAB_REGISTRY,
  pollMs: 250,
  readyTimeoutMs: 60_000,
  callDeadlineMs: 30_000,
  stopGraceSeconds: GRACE,
  helperLabels: { ...MINE, 'tc.role': 'image-probe' },
});

let image: string;
let nodes: EngineNode[];
let seq = 0;

function nodeId(hostname: string): string {
  const n = nodes.find((x) => x.hostname === hostname);
  if (!n) throw new Error(`no node ${hostname}`);
  return n.id;
}

function spec(cmd: string, host: string, over: Partial<ContainerSpec> = {}): ContainerSpec {
  seq += 1;
  return {
    name: `tc-test-sw-${TEST_RUN}-${seq}`,
    image,
    cmd: ['/bin/sh', '-c', cmd],
    env: { DLS_TASK_INDEX: '0', GREETING: 'hello world' },
    labels: { ...MINE, 'tc.case': String(seq) },
    hostname: `node-${seq}`,
    nanoCpus: 0.1e9,
    memoryBytes: 64 * MiB,
    pidsLimit: 64,
    networkMode: 'bridge',
    node: nodeId(host),
    ...over,
  };
}

async function taskOf(serviceId: string): Promise<{ NodeID: string; Status: { State: string } }> {
  const tasks = (await managerDocker().listTasks({ filters: { service: [serviceId] } })) as {
    NodeID: string;
    CreatedAt: string;
    Status: { State: string };
  }[];
  tasks.sort((a, b) => Date.parse(a.CreatedAt) - Date.parse(b.CreatedAt));
  if (!tasks[0]) throw new Error('no task');
  return tasks[0];
}

async function collect(id: string, since?: Date): Promise<LogLineEvent[]> {
  const lines: LogLineEvent[] = [];
  await engine.followLogs(id, (l) => lines.push(l), since);
  return lines;
}

/** Runs one service to its end: its exit info and its log. */
async function runToEnd(s: ContainerSpec): Promise<{ id: string; exitCode: number; lines: LogLineEvent[] }> {
  const id = await engine.createContainer(s);
  await engine.start(id);
  const [exit, lines] = await Promise.all([engine.wait(id), collect(id)]);
  return { id, exitCode: exit.exitCode, lines };
}

const text = (lines: LogLineEvent[]): string[] => lines.map((l) => l.text);

async function cleanup(): Promise<void> {
  for (const c of await engine.listManaged(MINE)) await engine.remove(c.id).catch(() => undefined);
  for (const n of await engine.listManagedNetworks(MINE)) await engine.removeNetwork(n.id).catch(() => undefined);
  for (let i = 1; i <= 3; i++) {
    const d = createDockerClient(nodeSocket(i));
    const imgs = await d.listImages({ filters: { label: [`tc.test.run=${TEST_RUN}`] } }).catch(() => []);
    for (const img of imgs) {
      for (const ref of img.RepoTags?.length ? img.RepoTags : [img.Id])
        await d
          .getImage(ref)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }
}

beforeAll(async () => {
  await ensureSwarmLab();
  image = await pushedTestImage({ name: 'tc-test/swarm-engine', user: '1101:1101' });
  nodes = await engine.nodes();
}, 180_000);

afterAll(async () => {
  await ensureSwarmLab();
  await cleanup();
}, 180_000);

describe('SwarmEngine on the 3-node lab', () => {
  it('lists the three ready nodes with their resources, and sums them as capacity', async () => {
    expect(nodes.map((n) => n.hostname).sort()).toEqual(['swlab-node1', 'swlab-node2', 'swlab-node3']);
    for (const n of nodes) {
      expect(n.ready).toBe(true);
      expect(n.vcpus).toBeGreaterThan(0);
      expect(n.memoryGiB).toBeGreaterThan(0);
      expect(n.gpus).toBe(0);
      expect(n.addr).toMatch(/^10\.231\.0\.1\d$/);
    }
    const cap = await engine.capacity();
    expect(cap.vcpus).toBeCloseTo(nodes.reduce((s, n) => s + n.vcpus, 0));
    expect(cap.memoryGiB).toBeCloseTo(nodes.reduce((s, n) => s + n.memoryGiB, 0));
    expect(engine.multiHost).toBe(true);
  });

  it('runs a service on the node it is pinned to and delivers its log with stamps, from `since` too', async () => {
    const before = Date.now();
    const s = spec('echo "one $GREETING"; echo two >&2; sleep 1; echo three; printf "no newline"', 'swlab-node3');
    const { id, exitCode, lines } = await runToEnd(s);
    expect(exitCode).toBe(0);
    expect((await taskOf(id)).NodeID).toBe(nodeId('swlab-node3'));
    // stdout and stderr are read apart by the node's engine: each in order, not with each other.
    expect(text(lines.filter((l) => l.stream === 'stdout'))).toEqual(['one hello world', 'three', 'no newline']);
    expect(text(lines.filter((l) => l.stream === 'stderr'))).toEqual(['two']);
    for (const l of lines) expect(l.at.getTime()).toBeGreaterThanOrEqual(before - 60_000);
    // A resumed console passes the last stored stamp: that line again (inclusive) and the rest.
    const three = lines.find((l) => l.text === 'three')!;
    expect(text(await collect(id, three.at))).toEqual(['three', 'no newline']);
    // The service's labels are the spec's.
    expect((await engine.listManaged({ ...MINE, 'tc.case': s.labels['tc.case']! })).map((c) => c.id)).toEqual([id]);
  }, 120_000);

  it('applies the limits and hardening of a job container', async () => {
    const { exitCode, lines } = await runToEnd(
      spec(
        'grep CapBnd /proc/self/status; tr "\\0" " " </proc/1/cmdline; echo; id -u; pwd; hostname; ' +
          'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
        'swlab-node2',
        { workingDir: '/tmp', hostname: 'rank-7' },
      ),
    );
    expect(exitCode).toBe(0);
    const out = text(lines);
    expect(out[0]).toMatch(/^CapBnd:\s+0+$/);
    expect(out[1]).toMatch(/docker-init/);
    expect(out.slice(2)).toEqual(['1101', '/tmp', 'rank-7', '64']);
  }, 120_000);

  it("bind-mounts a folder of the node's host", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tc-swarm-mount-'));
    try {
      await chmod(dir, 0o777);
      const { exitCode } = await runToEnd(
        spec('echo written > /home/work/out.txt', 'swlab-node3', { mounts: [{ hostPath: dir, containerPath: '/home/work' }] }),
      );
      expect(exitCode).toBe(0);
      expect(await readFile(path.join(dir, 'out.txt'), 'utf8')).toBe('written\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('reports a non-zero exit code', async () => {
    const { exitCode, lines } = await runToEnd(spec('echo failing; exit 3', 'swlab-node2'));
    expect(exitCode).toBe(3);
    expect(text(lines)).toEqual(['failing']);
  }, 120_000);

  it('follows a log while the task runs and ends when the task does', async () => {
    const id = await engine.createContainer(spec('for i in 1 2 3 4 5; do echo "tick $i"; sleep 1; done', 'swlab-node1'));
    await engine.start(id);
    const seen: string[] = [];
    const follow = engine.followLogs(id, (l) => seen.push(l.text));
    const exit = await engine.wait(id);
    await follow;
    expect(exit.exitCode).toBe(0);
    expect(seen).toEqual(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5']);
  }, 120_000);

  it('turns the follow into one last read when drain aborts', async () => {
    const id = await engine.createContainer(spec('echo a; echo b; sleep 300', 'swlab-node2'));
    await engine.start(id);
    const drain = new AbortController();
    const seen: string[] = [];
    const follow = engine.followLogs(id, (l) => seen.push(l.text), undefined, drain.signal);
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    drain.abort();
    await follow;
    expect(seen).toEqual(['a', 'b']);
    await engine.remove(id);
  }, 120_000);

  it('connects ranks on three nodes through one internal overlay by name, and nothing else', async () => {
    const net = await engine.createNetwork(`tc-test-sw-${TEST_RUN}-net`, MINE, true);
    expect((await engine.listManagedNetworks(MINE)).map((n) => n.id)).toContain(net);
    // Bounded on both sides: a peer that never gets through fails the test instead of hanging it.
    const rank0 = spec('echo pong | timeout 120 nc -l -p 5000 && echo served', 'swlab-node1', {
      networkMode: net,
      networkAliases: ['rank-0'],
    });
    const rank1 = spec('sleep 1; echo idle', 'swlab-node2', { networkMode: net, networkAliases: ['rank-1'] });
    const rank2 = spec(
      'for i in $(seq 1 60); do nc -w 3 rank-0 5000 </dev/null && break; sleep 1; done; ' +
        `if nc -w 3 ${LAB_HOST_ADDR} 5000 </dev/null; then echo outside-reached; else echo outside-unreachable; fi`,
      'swlab-node3',
      { networkMode: net, networkAliases: ['rank-2'] },
    );
    const [r0, r1, r2] = await Promise.all([runToEnd(rank0), runToEnd(rank1), runToEnd(rank2)]);
    expect(r0.exitCode).toBe(0);
    expect(text(r0.lines)).toEqual(['served']);
    expect(r1.exitCode).toBe(0);
    expect(text(r2.lines)).toContain('pong');
    expect(text(r2.lines)).toContain('outside-unreachable');
    const placed = await Promise.all([r0.id, r1.id, r2.id].map(async (id) => (await taskOf(id)).NodeID));
    expect(new Set(placed).size).toBe(3);
    for (const r of [r0, r1, r2]) await engine.remove(r.id);
    await engine.removeNetwork(net);
    await engine.removeNetwork(net);
  }, 180_000);

  it("gives a job without network no route out ('none')", async () => {
    const s = spec(
      `ip route; if nc -w 3 ${LAB_HOST_ADDR} 5000 </dev/null; then echo outside-reached; else echo outside-unreachable; fi`,
      'swlab-node2',
      { networkMode: 'none' },
    );
    const { id, exitCode, lines } = await runToEnd(s);
    expect(exitCode).toBe(0);
    expect(text(lines)).toContain('outside-unreachable');
    expect(text(lines).some((l) => l.startsWith('default'))).toBe(false);
    // Its private network is not the sweep's while the service exists, and goes with it.
    const privateNet = `${s.name}-isolated`;
    expect((await engine.listManagedNetworks(MINE)).map((n) => n.name)).not.toContain(privateNet);
    await engine.remove(id);
    await engine.remove(id);
    const left = await managerDocker().listNetworks({ filters: { name: [privateNet] } });
    expect(left.filter((n) => n.Name === privateNet)).toEqual([]);
  }, 120_000);

  it('stops with SIGTERM first: a script that traps it ends with its own code and its log', async () => {
    const id = await engine.createContainer(
      spec("trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 1; done", 'swlab-node2'),
    );
    await engine.start(id);
    const seen: string[] = [];
    const follow = engine.followLogs(id, (l) => seen.push(l.text));
    const waited = engine.wait(id);
    for (let i = 0; i < 100 && !seen.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(seen).toContain('ready');
    await engine.stop(id, GRACE);
    expect(await waited).toEqual({ exitCode: 7, oomKilled: false });
    await follow;
    expect(seen).toEqual(['ready', 'got TERM']);
    expect((await engine.listManaged({ ...MINE, 'tc.case': String(seq) }))[0]?.state).toBe('exited');
    // Stopping again, or an ended one, is fine.
    await engine.stop(id, GRACE);
  }, 120_000);

  it('kills after the grace a task that ignores SIGTERM', async () => {
    const id = await engine.createContainer(
      spec("trap 'echo ignoring TERM' TERM; echo ready; while true; do sleep 1; done", 'swlab-node3'),
    );
    await engine.start(id);
    const seen: string[] = [];
    const follow = engine.followLogs(id, (l) => seen.push(l.text));
    for (let i = 0; i < 100 && !seen.includes('ready'); i++) await new Promise((r) => setTimeout(r, 100));
    await engine.stop(id, GRACE);
    expect(await engine.wait(id)).toEqual({ exitCode: 137, oomKilled: false });
    await follow;
    expect(seen).toEqual(['ready', 'ignoring TERM']);
  }, 120_000);

  it('rejects wait and the log with ContainerGoneError when the service is removed outside', async () => {
    const id = await engine.createContainer(spec('sleep 300', 'swlab-node1'));
    await engine.start(id);
    const waited = engine.wait(id).catch((e: unknown) => e);
    await managerDocker().getService(id).remove();
    expect(await waited).toBeInstanceOf(ContainerGoneError);
    await expect(engine.followLogs(id, () => undefined)).rejects.toBeInstanceOf(ContainerGoneError);
    await engine.remove(id);
  }, 120_000);

  it('start() names the reason and the node when the registry does not have the image', async () => {
    const id = await engine.createContainer(spec('true', 'swlab-node2', { image: `${LAB_REGISTRY}/tc-test/absent:${TEST_RUN}` }));
    const err = await engine.start(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/swlab-node2/);
    expect((err as Error).message).toMatch(/no such image|not found|manifest unknown/i);
    console.log(`start() of a missing image: ${(err as Error).message}`);
    await engine.remove(id);
  }, 120_000);

  it('refuses a spec without a node, and archives through the manager', async () => {
    const s = spec('true', 'swlab-node1');
    delete s.node;
    await expect(engine.createContainer(s)).rejects.toThrow(/node/);
    await expect(engine.putArchive('x', '/home/work', Readable.from([]))).rejects.toThrow(/node agent/);
    await expect(engine.getArchive('x', '/home/work')).rejects.toThrow(/node agent/);
    expect(await engine.stats('x')).toBeNull();
  });

  it('pushes an image through the manager so every node can run it', async () => {
    const repo = `${LAB_REGISTRY}/tc-test/swarm-engine-pushed`;
    await managerDocker().getImage(image).tag({ repo, tag: TEST_RUN });
    await engine.pushImage(`${repo}:${TEST_RUN}`);
    const r = await runToEnd(spec('echo pushed', 'swlab-node3', { image: `${repo}:${TEST_RUN}` }));
    expect(r.exitCode).toBe(0);
    expect(text(r.lines)).toEqual(['pushed']);
  }, 120_000);

  it('lists its services by label with their state', async () => {
    const tag = { ...MINE, 'tc.list': TEST_RUN };
    const a = await engine.createContainer(spec('sleep 300', 'swlab-node1', { labels: { ...tag, 'tc.case': 'a' } }));
    const b = await engine.createContainer(spec('true', 'swlab-node2', { labels: { ...tag, 'tc.case': 'b' } }));
    await engine.start(a);
    await engine.wait(b);
    const list = await engine.listManaged(tag);
    expect(list.map((c) => [c.labels['tc.case'], c.state]).sort()).toEqual([
      ['a', 'running'],
      ['b', 'exited'],
    ]);
    await engine.remove(a);
    await engine.remove(b);
    expect(await engine.listManaged(tag)).toEqual([]);
  }, 120_000);

  // Last: it takes node 3's engine down, and brings it back.
  it('reports the host lost when the node running the task goes down', async () => {
    const id = await engine.createContainer(spec('echo up; sleep 600', 'swlab-node3'));
    await engine.start(id);
    const waited = engine.wait(id).catch((e: unknown) => e);
    const pid = (await readFile(`${LAB_DIR}/node3/dockerd.pid`, 'utf8')).trim();
    const killedAt = Date.now();
    await run('kill', ['-9', pid]);
    const err = await waited;
    const detectedMs = Date.now() - killedAt;
    console.log(`host loss of swlab-node3 detected ${detectedMs} ms after its engine was killed`);
    expect(err).toBeInstanceOf(HostLostError);
    expect((err as HostLostError).hostname).toBe('swlab-node3');
    expect((err as Error).message).toMatch(/swlab-node3 \(10\.231\.0\.13\) stopped answering/);
    expect((await engine.nodes()).find((n) => n.hostname === 'swlab-node3')?.ready).toBe(false);
    await engine.remove(id);
    await ensureSwarmLab();
    expect((await engine.nodes()).every((n) => n.ready)).toBe(true);
  }, 240_000);
});
