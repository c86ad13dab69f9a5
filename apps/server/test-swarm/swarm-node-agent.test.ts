import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineNode } from '../src/engine/container-engine.js';
import { createDockerClient } from '../src/engine/docker/docker-engine.js';
import { AGENT_CAPABILITIES } from '../src/engine/docker/docker-node-agent.js';
import { AgentError, type AgentMessage, type NodeAgent, type StageFile } from '../src/engine/node-agent.js';
import { planStaging, stageOnNode, uploadFromNode } from '../src/engine/node-data.js';
import { SwarmNodeAgent, removeSwarmAgent, swarmAgentServiceName } from '../src/engine/swarm/swarm-node-agent.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../src/storage/s3-client.js';
import { S3ObjectStore } from '../src/storage/s3-object-store.js';
import { TEST_LABELS, TEST_RUN } from '../test/support/images.js';
import { LAB_HOST_ADDR, LAB_REGISTRY, ensureSwarmLab, managerDocker, nodeSocket } from '../test/support/swarm-lab.js';

/**
 * The node agent as a global service on the real 3-engine swarm lab. The lab's engines share
 * this machine's file system, so a folder under /tmp is "the same path on every node" and the
 * test reads what an agent wrote on node 3 straight from here; on real hosts each node has its
 * own folder. Other engineers use the lab at the same time: everything here carries its own
 * console id, port and test labels, and only that is removed.
 */
const consoleId = `swtest-${TEST_RUN}${randomBytes(2).toString('hex')}`;
const token = randomBytes(24).toString('hex');
const agentPort = 21000 + Math.floor(Math.random() * 9000);
const UID = 1101;
const BUCKET = 'swarm-agent';
// Not made here: the agent's folder job makes it on every node.
const base = `/tmp/tc-swarm-agent-${TEST_RUN}-${randomBytes(3).toString('hex')}`;
const nodeRoot = `${base}/node`;

let manager: Dockerode;
let embedded: EmbeddedS3;
let store: S3ObjectStore;
let agent: SwarmNodeAgent;
let nodes: EngineNode[];
const byHost = (hostname: string): EngineNode => nodes.find((n) => n.hostname === hostname)!;

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function swarmNodes(): Promise<EngineNode[]> {
  return (await manager.listNodes()).map((n) => ({
    id: n.ID,
    hostname: n.Description?.Hostname ?? n.ID,
    addr: n.Status?.Addr ?? '',
    labels: n.Spec?.Labels ?? {},
    ready: n.Status?.State === 'ready' && n.Spec?.Availability === 'active',
    vcpus: 1,
    memoryGiB: 1,
    gpus: 0,
  }));
}

/** The agent as node-data.ts takes it, bound to one node (the runner passes its job's node). */
function on(node: EngineNode, a: SwarmNodeAgent = agent): NodeAgent {
  return {
    ensure: () => a.ensure(),
    hostPath: (w) => a.hostPath(w),
    agentPath: (w) => a.agentPath(w),
    run: (cmd, onMessage, signal) => a.run(cmd, onMessage, signal, node.id),
  };
}

beforeAll(async () => {
  await ensureSwarmLab();
  manager = managerDocker();
  embedded = await startEmbeddedS3({
    host: LAB_HOST_ADDR,
    port: await freePort(LAB_HOST_ADDR),
    dir: `${base}-s3`,
    accessKeyId: 'TESTKEY',
    secretAccessKey: 'TESTSECRET',
  });
  store = new S3ObjectStore(
    createS3Client({
      endpoint: embedded.endpoint,
      region: embedded.region,
      accessKeyId: embedded.accessKeyId,
      secretAccessKey: embedded.secretAccessKey,
    }),
  );
  await store.createBucket(BUCKET);
  nodes = await swarmNodes();
  agent = new SwarmNodeAgent(manager, {
    consoleId,
    nodeRoot,
    registry: LAB_REGISTRY,
    token,
    port: agentPort,
    nodes: swarmNodes,
    extraLabels: { ...TEST_LABELS },
  });
  await agent.ensure();
}, 240_000);

afterAll(async () => {
  await removeSwarmAgent(manager, consoleId);
  await embedded?.stop();
  rmSync(base, { recursive: true, force: true });
  rmSync(`${base}-s3`, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function putObject(key: string, body: Buffer): Promise<void> {
  await store.upload(BUCKET, key, body);
}

async function storedBytes(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.getStream(BUCKET, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The agent task's container on one node, from that node's own engine. */
async function agentContainer(hostname: string): Promise<Dockerode.Container> {
  const i = Number(/(\d+)$/.exec(hostname)?.[1]);
  const docker = createDockerClient(nodeSocket(i));
  const list = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${swarmAgentServiceName(consoleId)}`] } });
  expect(list).toHaveLength(1);
  return docker.getContainer(list[0]!.Id);
}

describe('SwarmNodeAgent: the service', () => {
  it('runs one agent per node, host network, only the listed capabilities, read-only, each answering /health', async () => {
    const svc = (await manager.getService(swarmAgentServiceName(consoleId)).inspect()) as {
      Spec: Dockerode.ServiceSpec & { TaskTemplate: Dockerode.ContainerTaskSpec };
    };
    expect(svc.Spec.Mode).toEqual({ Global: {} });
    expect(svc.Spec.Labels).toMatchObject({ ...TEST_LABELS, 'tc.node-agent': '1', 'tc.console': consoleId });
    const cs = svc.Spec.TaskTemplate.ContainerSpec!;
    expect(cs.Image).toContain(`${LAB_REGISTRY}/tc-node-agent:`);
    expect(cs.Command).toEqual(['/usr/bin/node', '/agent/agent.mjs', 'serve']);
    expect(cs.CapabilityDrop).toEqual(['ALL']);
    expect([...(cs.CapabilityAdd ?? [])].sort()).toEqual([...AGENT_CAPABILITIES].sort());
    expect(cs.ReadOnly).toBe(true);
    // The token is only in the secret: not in the environment, not in the labels.
    expect(JSON.stringify(svc.Spec)).not.toContain(token);

    expect(nodes.filter((n) => n.ready)).toHaveLength(3);
    for (const n of nodes) {
      expect(await get(`http://${n.addr}:${agentPort}/health`)).toEqual({ status: 200, body: 'ok\n' });
      const info = await (await agentContainer(n.hostname)).inspect();
      expect(info.HostConfig.NetworkMode).toBe('host');
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      expect(info.Mounts.find((m) => m.Destination === '/node')?.Source).toBe(nodeRoot);
    }
    // The folder job made the node root where it was missing, and left nothing behind.
    expect(statSync(nodeRoot).isDirectory()).toBe(true);
    const left = await manager.listServices({ filters: { label: [`tc.console=${consoleId}`] } });
    expect(left.map((s) => s.Spec?.Name)).toEqual([swarmAgentServiceName(consoleId)]);
  });

  it('a second instance finds it up and changes nothing', async () => {
    const before = (await manager.getService(swarmAgentServiceName(consoleId)).inspect()) as { Version: { Index: number } };
    const other = new SwarmNodeAgent(manager, {
      consoleId,
      nodeRoot,
      registry: LAB_REGISTRY,
      token,
      port: agentPort,
      nodes: swarmNodes,
      extraLabels: { ...TEST_LABELS },
    });
    await Promise.all([other.ensure(), other.ensure()]);
    const after = (await manager.getService(swarmAgentServiceName(consoleId)).inspect()) as { Version: { Index: number } };
    expect(after.Version.Index).toBe(before.Version.Index);
  });
});

describe('SwarmNodeAgent: moving data on the nodes', () => {
  it('stages onto node 2 and node 3 byte for byte, owned by the job', async () => {
    const objects = new Map<string, Buffer>([
      ['in/code/train.py', Buffer.from('print("hi")\n')],
      ['in/code/lib/ü s.py', Buffer.from('x = 1\n')],
      ['in/data/big.bin', randomBytes(300_000)],
      ['in/data/empty', Buffer.alloc(0)],
    ]);
    for (const [k, v] of objects) await putObject(k, v);
    for (const host of ['swlab-node2', 'swlab-node3']) {
      const node = byHost(host);
      const workDir = `jobs/stage-${host}`;
      const code = await planStaging(store, BUCKET, 'in/code/', 'code');
      const data = await planStaging(store, BUCKET, 'in/data/', 'data');
      const doneGroups: string[] = [];
      await stageOnNode(
        on(node),
        workDir,
        ['outputs'],
        [
          { name: 'code', plan: code },
          { name: 'data', plan: data },
        ],
        () => undefined,
        (g) => doneGroups.push(g),
      );
      expect(doneGroups.sort()).toEqual(['code', 'data']);
      const root = agent.hostPath(workDir);
      for (const [k, v] of objects) {
        const file = path.join(root, k.replace(/^in\//, ''));
        expect(sha(readFileSync(file)), `${host} ${k}`).toBe(sha(v));
        expect(statSync(file).uid).toBe(UID);
        expect(statSync(file).gid).toBe(UID);
      }
      expect(statSync(path.join(root, 'outputs')).uid).toBe(UID);
    }
  });

  it('scan and upload from node 3 round-trip through the store', async () => {
    const node = byHost('swlab-node3');
    const workDir = 'jobs/upload';
    await stageOnNode(
      on(node),
      workDir,
      ['outputs'],
      [],
      () => undefined,
      () => undefined,
    );
    const out = path.join(agent.hostPath(workDir), 'outputs');
    const files = new Map<string, Buffer>([
      ['metrics.json', Buffer.from('{"loss":0.1}')],
      ['ckpt/weights ü.bin', randomBytes(200_000)],
      ['ckpt/big.bin', randomBytes(6 * 1024 * 1024 + 17)],
    ]);
    for (const [p, body] of files) {
      const f = path.join(out, p);
      mkdirSync(path.dirname(f), { recursive: true });
      chownSync(path.dirname(f), UID, UID);
      writeFileSync(f, body);
      chownSync(f, UID, UID);
    }
    // Over 5 MiB in parts: the multipart path goes through the agent too.
    const report = await uploadFromNode(on(node), store, `${workDir}/outputs`, BUCKET, 'results/', () => undefined, {
      singlePutMax: 5 * 1024 * 1024,
      partSize: 5 * 1024 * 1024,
    });
    expect(report).toMatchObject({ files: 3, skipped: [], refused: [] });
    for (const [p, body] of files) expect(sha(await storedBytes(`results/${p}`)), p).toBe(sha(body));
  });

  it('a wrong or missing token gets 401 and runs nothing', async () => {
    const node = byHost('swlab-node2');
    const input = JSON.stringify({ root: agent.agentPath('jobs/denied'), uid: UID, dirs: ['outputs'], groups: [] });
    const url = `http://${node.addr}:${agentPort}/run/stage`;
    const wrong = await post(url, { authorization: `Bearer ${token.slice(0, -1)}x`, 'content-type': 'application/json' }, input);
    expect(wrong.status).toBe(401);
    const none = await post(url, { 'content-type': 'application/json' }, input);
    expect(none.status).toBe(401);
    expect(existsSync(agent.hostPath('jobs/denied'))).toBe(false);

    // The console's side says so in words.
    const impostor = new SwarmNodeAgent(manager, {
      consoleId,
      nodeRoot,
      registry: LAB_REGISTRY,
      token: randomBytes(24).toString('hex'),
      port: agentPort,
      nodes: swarmNodes,
    });
    // Its ensure would install its own token: the test only asks it to talk.
    (impostor as unknown as { ready: boolean }).ready = true;
    const err = await impostor
      .run({ command: 'remove', input: { root: agent.agentPath('jobs/denied') } }, () => undefined, undefined, node.id)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as Error).message).toMatch(/swlab-node2 .*refused the console's token/);
    expect(existsSync(agent.hostPath('jobs/denied'))).toBe(false);
  });

  it('an abort ends a long staging on the node', async () => {
    const node = byHost('swlab-node3');
    const body = randomBytes(256 * 1024);
    const files: StageFile[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `many/f${String(i).padStart(3, '0')}.bin`;
      await putObject(key, body);
      files.push({ key, path: key, size: body.length, url: await store.presign('GET', BUCKET, key, 300) });
    }
    const abort = new AbortController();
    const reason = new Error('stopped by the test');
    let progress = 0;
    const outcome = await agent
      .run(
        {
          command: 'stage',
          input: { root: agent.agentPath('jobs/abort'), uid: UID, dirs: [], groups: [{ name: 'data', files }], concurrency: 1 },
        },
        (m: AgentMessage) => {
          if (m.type === 'progress' && m.bytes > 0 && progress++ === 0) abort.abort(reason);
        },
        abort.signal,
        node.id,
      )
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(outcome).toBe(reason);
    // The agent kills the command once its client is gone; only the server is left in the task.
    const container = await agentContainer(node.hostname);
    let stages: string[] = [];
    for (let i = 0; i < 50; i++) {
      const top = (await container.top({ ps_args: '-eo pid,args' })) as { Processes: string[][] };
      stages = top.Processes.map((p) => p.join(' ')).filter((a) => / stage /.test(a));
      if (stages.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(stages).toEqual([]);
    const staged = execFileSync('find', [agent.hostPath('jobs/abort'), '-type', 'f'])
      .toString()
      .trim()
      .split('\n');
    expect(staged.length).toBeLessThan(200);
  });

  it('an unreachable node fails fast, naming the host; an unknown node and no node are refused', async () => {
    const ghost: EngineNode = { ...byHost('swlab-node2'), id: 'ghostnode', hostname: 'ghost-host', addr: LAB_HOST_ADDR, ready: false };
    const withGhost = new SwarmNodeAgent(manager, {
      consoleId,
      nodeRoot,
      registry: LAB_REGISTRY,
      token,
      port: agentPort,
      nodes: async () => [...(await swarmNodes()), ghost],
      extraLabels: { ...TEST_LABELS },
    });
    const cmd = { command: 'remove', input: { root: agent.agentPath('jobs/ghost') } } as const;
    const err = await withGhost
      .run(cmd, () => undefined, undefined, 'ghostnode')
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AgentError);
    expect((err as Error).message).toMatch(
      new RegExp(`^the node agent on host ghost-host \\(${LAB_HOST_ADDR.replace(/\./g, '\\.')}\\) is unreachable: .*ECONNREFUSED`),
    );
    await expect(agent.run(cmd, () => undefined, undefined, 'nosuchnode')).rejects.toThrow(/the swarm has no node nosuchnode/);
    await expect(agent.run(cmd, () => undefined)).rejects.toThrow(/needs the node it runs on/);
  });
});

describe('SwarmNodeAgent: a new token', () => {
  it('replaces the secret and the tasks; the old token is refused from then on', async () => {
    const fresh = randomBytes(24).toString('hex');
    const rotated = new SwarmNodeAgent(manager, {
      consoleId,
      nodeRoot,
      registry: LAB_REGISTRY,
      token: fresh,
      port: agentPort,
      nodes: swarmNodes,
      extraLabels: { ...TEST_LABELS },
    });
    await rotated.ensure();
    const secrets = (await manager.listSecrets({ filters: { label: [`tc.console=${consoleId}`] } })) as { Spec: { Name: string } }[];
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Spec.Name).toMatch(
      new RegExp(`^tc-.*-agent-token-${createHash('sha256').update(fresh).digest('hex').slice(0, 12)}$`),
    );

    const node = byHost('swlab-node3');
    const cmd = { command: 'remove', input: { root: agent.agentPath('jobs/rotated') } } as const;
    await rotated.run(cmd, () => undefined, undefined, node.id);
    // The old instance still believes its agents are up: it is told, not retried into a loop.
    await expect(agent.run(cmd, () => undefined, undefined, node.id)).rejects.toThrow(/refused the console's token/);
  });
});
