import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { createDockerClient } from '../../src/engine/docker/docker-engine.js';
import { buildBusyboxImage, type BusyboxImageOptions } from '../../src/engine/docker/build-image.js';
import { TEST_LABELS, TEST_RUN } from './images.js';

const run = promisify(execFile);

/**
 * The real 3-engine swarm of ../shared/tools/swarm-lab (each engine in its own network
 * namespace, VXLAN between them, a registry on the bridge). Brought up on first use; left up
 * for the other test files (up.sh is idempotent and takes about 2 s; down.sh is for humans).
 */
export const LAB_DIR = process.env.SWARM_LAB_DIR ?? '/tmp/swarm-lab';
export const LAB_NODES = 3;
/** The host's address on the lab's bridge: a store bound here is reachable from every node. */
export const LAB_HOST_ADDR = '10.231.0.1';
export const LAB_REGISTRY = `${LAB_HOST_ADDR}:5000`;
/** A copy of the team's swarm-lab tool, kept in the repo so a clean clone's CI has it. */
export const LAB_TOOL = process.env.SWARM_LAB_TOOL ?? new URL('../../../../scripts/swarm-lab/', import.meta.url).pathname;

export function managerSocket(): string {
  return `unix://${LAB_DIR}/node1/docker.sock`;
}

/** Node i's own engine (1-based), for what only that node answers (its containers, its engine's life). */
export function nodeSocket(i: number): string {
  return `unix://${LAB_DIR}/node${i}/docker.sock`;
}

let up: Promise<void> | null = null;

async function labReady(): Promise<boolean> {
  try {
    const { stdout } = await run('docker', ['-H', managerSocket(), 'node', 'ls', '--format', '{{.Status}} {{.Availability}}']);
    return (
      stdout
        .trim()
        .split('\n')
        .filter((l) => l === 'Ready Active').length === LAB_NODES
    );
  } catch {
    return false;
  }
}

/** Makes sure the lab runs with every node Ready (starting it, or a node's engine that died, again). */
export async function ensureSwarmLab(): Promise<void> {
  up ??= (async () => {
    if (await labReady()) return;
    // One up.sh at a time on this machine (test files, the bench): two at once race on the
    // bridge's address and the namespaces. `-o`: the engines it starts must not inherit (and
    // so hold for ever) the lock.
    await run('flock', ['-o', `${LAB_DIR}.lock`, 'bash', `${LAB_TOOL}/up.sh`, String(LAB_NODES), LAB_DIR], { maxBuffer: 1 << 22 });
    for (let i = 0; i < 120 && !(await labReady()); i++) await new Promise((r) => setTimeout(r, 500));
    if (!(await labReady())) throw new Error('the swarm lab did not come up with every node Ready');
  })().finally(() => {
    up = null;
  });
  return up;
}

let manager: Dockerode | undefined;
export function managerDocker(): Dockerode {
  manager ??= createDockerClient(managerSocket());
  return manager;
}

/**
 * A busybox image built on the manager and pushed to the lab's registry, so every node can pull
 * it; returns `registry/name:tag`.
 */
export async function pushedTestImage(o: Omit<BusyboxImageOptions, 'tag'> & { name: string }): Promise<string> {
  const tag = `${LAB_REGISTRY}/${o.name}:${TEST_RUN}`;
  await buildBusyboxImage(managerDocker(), { ...o, tag, labels: { ...o.labels, ...TEST_LABELS } });
  await run('docker', ['-H', managerSocket(), 'push', tag], { maxBuffer: 1 << 22 });
  return tag;
}
