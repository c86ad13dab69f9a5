import type { Flavor } from '@tc/contracts';
import type { PoolConfig } from '../config.js';
import type { JobRecord } from '../jobs/job.js';
import type { ContainerSpec } from './container-engine.js';
import { nodeEnvironment, nodeHostnames } from './job-env.js';
import { WORK_DIR } from './paths.js';

export const LABEL = {
  managed: 'tc.managed',
  /** Which console owns it: several consoles may share one engine, and each sweeps only its own. */
  console: 'tc.console',
  jobId: 'tc.job-id',
  jobName: 'tc.job-name',
  jobVersion: 'tc.job-version',
  node: 'tc.node',
} as const;

export const PIDS_LIMIT = 1024;
const GiB = 1024 ** 3;

export interface LaunchInput {
  job: Pick<JobRecord, 'id' | 'name' | 'version' | 'nodeCount' | 'spec'>;
  flavor: Flavor;
  pool: Pick<PoolConfig, 'network'>;
  /** The checked image's ID (never the tag: a re-tag after the check must run nothing unchecked). */
  imageId: string;
  /** The data source's URL as the job sees it (DLS_DATA_URL). */
  dataUrl: string;
  consoleId: string;
  /** Per node: its work folder on the engine's host, mounted at /home/work. */
  workDirHostPaths: readonly string[];
  logMaxBytes: number;
  extraLabels?: Record<string, string>;
  /**
   * A file (a container path) the boot command waits for: the container can then start while
   * its data is still being staged, and the command runs the moment the file appears. It is
   * removed before the command runs, so the contract's folders hold only what the job put there.
   */
  waitFor?: string;
}

export interface LaunchPlan {
  hostnames: string[];
  /** A distributed job's own network; none for a standalone job. */
  network: { name: string; labels: Record<string, string>; internal: boolean } | null;
  containers: ContainerSpec[];
}

/**
 * A container or network name on the engine. Engine names are global, and several consoles may
 * share an engine, each numbering its jobs from 1: the console's id keeps them apart.
 */
export function engineName(consoleId: string, base: string, jobId: number): string {
  return `tc-${consoleId.replace(/[^a-zA-Z0-9]/g, '').slice(0, 12)}-${base}-${jobId}`;
}

/** Shell that waits for `file` (polling every 50 ms), removes it, and goes on with what follows. */
export function gate(file: string): string {
  return `while [ ! -e '${file}' ]; do sleep 0.05; done; rm -f '${file}'; `;
}

/**
 * What the engine is asked to make for a job: a pure function of the job, its flavor and pool,
 * so every rule of the container contract (limits, labels, network, environment, mounts) is
 * checked by fast tests, and a second engine backend gets the same plan.
 */
export function launchPlan(input: LaunchInput): LaunchPlan {
  const { job, flavor, pool } = input;
  const hostnames = nodeHostnames(job.name, job.version, job.nodeCount);
  const labels = (node: number): Record<string, string> => ({
    ...input.extraLabels,
    [LABEL.managed]: '1',
    [LABEL.console]: input.consoleId,
    [LABEL.jobId]: String(job.id),
    [LABEL.jobName]: job.name,
    [LABEL.jobVersion]: job.version,
    [LABEL.node]: String(node),
  });
  // Nodes find each other by hostname on a network of their own; internal unless the pool lets
  // jobs reach out, so a distributed job is no more connected than a standalone one.
  const network =
    job.nodeCount > 1
      ? { name: engineName(input.consoleId, hostnames[0]!.replace(/-0$/, ''), job.id), labels: labels(-1), internal: !pool.network }
      : null;
  const networkMode = network ? network.name : pool.network ? 'bridge' : 'none';
  const containers = hostnames.map((hostname, i): ContainerSpec => ({
    name: engineName(input.consoleId, hostname, job.id),
    image: input.imageId,
    cmd: ['/bin/sh', '-c', `${input.waitFor ? gate(input.waitFor) : ''}${job.spec.algorithm.bootCommand}`],
    env: nodeEnvironment({ spec: job.spec, version: job.version, index: i, hostnames, dataUrl: input.dataUrl }),
    labels: labels(i),
    hostname,
    nanoCpus: Math.round(flavor.vcpus * 1e9),
    memoryBytes: Math.round(flavor.memoryGiB * GiB),
    pidsLimit: PIDS_LIMIT,
    gpus: flavor.gpus,
    networkMode,
    ...(network ? { networkAliases: [hostname] } : {}),
    logMaxBytes: input.logMaxBytes,
    mounts: [{ hostPath: input.workDirHostPaths[i]!, containerPath: WORK_DIR }],
  }));
  return { hostnames, network, containers };
}
