import type { JobStatus } from '@tc/contracts';
import type { ManagedContainer, ManagedNetwork } from './container-engine.js';
import { LABEL } from './launch-plan.js';

/** What recovery needs of a job the database says is still in progress. */
export interface OpenJob {
  id: number;
  status: JobStatus;
  nodeCount: number;
  /** The nodes' work folders as recorded (null before they were made). */
  workDirs: (string | null)[];
}

export interface RecoveryPlan {
  /** Initializing jobs: their leftovers go, and they initialize again from the start. */
  restart: { jobId: number; containers: string[]; network: string | null; workDirs: string[] }[];
  /** Running and Stopping jobs: followed again with their containers per node (null: vanished). */
  resume: { jobId: number; containers: (string | null)[]; network: string | null }[];
  /** Containers and networks of jobs that ended or that no row knows: nothing will read them. */
  removeContainers: string[];
  removeNetworks: string[];
}

const OPEN: readonly JobStatus[] = ['Initializing', 'Running', 'Stopping'];

/**
 * What a console starting over its database does with what the engine still holds of its jobs:
 * a pure decision from the open jobs and the console's labelled containers and networks, so
 * every case (a vanished container, a leftover of an ended job, a stray network) is a fast test.
 * `busy` are jobs this process already carries (never touched here).
 */
export function recoveryPlan(
  openJobs: readonly OpenJob[],
  containers: readonly ManagedContainer[],
  networks: readonly ManagedNetwork[],
  busy: ReadonlySet<number> = new Set(),
): RecoveryPlan {
  const byJob = new Map<number, Map<number, string>>();
  for (const c of containers) {
    const id = Number(c.labels[LABEL.jobId]);
    const node = Number(c.labels[LABEL.node]);
    if (!Number.isInteger(id) || !Number.isInteger(node)) continue;
    if (!byJob.has(id)) byJob.set(id, new Map());
    byJob.get(id)!.set(node, c.id);
  }
  const networkOf = (id: number): string | null => networks.find((n) => Number(n.labels[LABEL.jobId]) === id)?.id ?? null;
  const plan: RecoveryPlan = { restart: [], resume: [], removeContainers: [], removeNetworks: [] };
  const open = new Set<number>();
  for (const job of openJobs) {
    if (!OPEN.includes(job.status) || busy.has(job.id)) continue;
    open.add(job.id);
    const found = byJob.get(job.id) ?? new Map<number, string>();
    if (job.status === 'Initializing') {
      plan.restart.push({
        jobId: job.id,
        containers: [...found.values()],
        network: networkOf(job.id),
        workDirs: job.workDirs.filter((d): d is string => d !== null),
      });
    } else {
      plan.resume.push({
        jobId: job.id,
        containers: Array.from({ length: job.nodeCount }, (_, i) => found.get(i) ?? null),
        network: networkOf(job.id),
      });
    }
  }
  for (const [jobId, nodes] of byJob) {
    if (!open.has(jobId) && !busy.has(jobId)) plan.removeContainers.push(...nodes.values());
  }
  for (const n of networks) {
    const id = Number(n.labels[LABEL.jobId]);
    if (!open.has(id) && !busy.has(id)) plan.removeNetworks.push(n.id);
  }
  return plan;
}
