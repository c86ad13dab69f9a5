import { z } from 'zod';
import { JobName, JobStatus, JobVersion } from './training-job.js';
import { Timestamp } from './timestamp.js';

/**
 * What one job has consumed: its run time (start → end, or → now while it runs) × nodes ×
 * (vCPUs + GPUs × the GPU-hour weight). The flavor is the one it ran with, kept when it started.
 */
export const JobConsumption = z.object({
  name: JobName,
  version: JobVersion,
  /** null once the job has been deleted: its consumption still counts. */
  status: JobStatus.nullable(),
  pool: z.string(),
  flavor: z.string(),
  vcpus: z.number().min(0),
  gpus: z.int().min(0),
  nodes: z.int().min(1),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  hours: z.number().min(0),
  coreHours: z.number().min(0),
});
export type JobConsumption = z.infer<typeof JobConsumption>;

export const Budget = z.object({
  /** null: no budget configured, nothing is ever refused. */
  limitCoreHours: z.number().min(0).nullable(),
  usedCoreHours: z.number().min(0),
  /** limit − used; null without a limit. At or below 0 the account is in arrears. */
  balanceCoreHours: z.number().nullable(),
  inArrears: z.boolean(),
  /** How many core-hours one GPU-hour counts for. */
  gpuHourWeight: z.number().min(0),
  /** The instant running jobs were metered up to. */
  asOf: Timestamp,
  /** The largest consumers, largest first (at most 10). */
  jobs: z.array(JobConsumption),
});
export type Budget = z.infer<typeof Budget>;

export const BudgetJobsQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type BudgetJobsQuery = z.infer<typeof BudgetJobsQuery>;

/** Every job that has run, newest start first. */
export const JobConsumptionList = z.object({ items: z.array(JobConsumption), total: z.int().min(0), asOf: Timestamp });
export type JobConsumptionList = z.infer<typeof JobConsumptionList>;

/**
 * The most a job can consume, in core-hours, as the budget meters it: nodes × (vCPUs + GPUs × the
 * GPU-hour weight) × its max running time. null without a max running time: it could run forever.
 */
export function estimateCoreHours(job: {
  vcpus: number;
  gpus: number;
  nodes: number;
  maxRuntimeMinutes?: number | null;
  gpuHourWeight: number;
}): number | null {
  if (job.maxRuntimeMinutes === undefined || job.maxRuntimeMinutes === null) return null;
  return job.nodes * (job.vcpus + job.gpus * job.gpuHourWeight) * (job.maxRuntimeMinutes / 60);
}

/** Core-hours for people: at most 4 significant digits, no float noise. */
export function formatCoreHours(n: number): string {
  return String(+n.toPrecision(4));
}

/**
 * Why a job is refused before it is created when the balance cannot cover its estimate, or null.
 * One rule for the wizard (Submit is blocked) and the server (a 400 on `maxRuntimeMinutes`). No
 * limit (balance null) or no estimate (no max running time) refuses nothing here; a balance at or
 * below 0 is the arrears rule's (402).
 */
export function budgetShortfall(estimate: number | null, balance: number | null): string | null {
  if (estimate === null || balance === null || balance <= 0 || estimate <= balance) return null;
  return (
    `the job may use up to ${formatCoreHours(estimate)} core-hours but the budget's balance is ${formatCoreHours(balance)}; ` +
    'shorten the max running time or choose fewer nodes or a smaller flavor'
  );
}
