import { hideSecretValues, NodeTransfer, type TrainingJob, type TrainingJobSummary } from '@tc/contracts';
import type { JobAttempt } from '@tc/contracts';
import type { JobAttemptRecord, JobEventRecord, JobNodeRecord, JobRecord } from './job.js';

/** Contract shapes from domain records: an allowlist, so internals (container IDs) stay inside. */
export function toSummary(job: JobRecord, queuePosition: number | null): TrainingJobSummary {
  return {
    name: job.name,
    version: job.version,
    status: job.status,
    reason: job.reason,
    failureClass: job.failureClass,
    queuePosition,
    flavor: job.flavorId,
    nodes: job.nodeCount,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    ...attemptOf(job),
  };
}

/** Only for jobs that may retry, so the views of the others stay as they were. */
function attemptOf(job: JobRecord): { attempt?: number; maxAttempts?: number } {
  const max = 1 + (job.spec.retry?.maxAttempts ?? 0);
  return max > 1 || job.attempt > 1 ? { attempt: job.attempt, maxAttempts: max } : {};
}

/** An attempt still going shows the job's status. */
function toAttempt(job: JobRecord, a: JobAttemptRecord): JobAttempt {
  return {
    attempt: a.attempt,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    status: a.status ?? job.status,
    reason: a.reason,
    failureClass: a.failureClass,
  };
}

export function toTrainingJob(
  job: JobRecord,
  queuePosition: number | null,
  nodes: JobNodeRecord[],
  events: JobEventRecord[],
  attempts: JobAttemptRecord[] = [],
): TrainingJob {
  return {
    id: String(job.id),
    name: job.name,
    version: job.version,
    description: job.description ?? undefined,
    status: job.status,
    reason: job.reason,
    failureClass: job.failureClass,
    queuePosition,
    spec: hideSecretValues(job.spec),
    imageId: job.imageId,
    imageDigest: job.imageDigest,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    endedAt: job.endedAt,
    ...attemptOf(job),
    ...(attemptOf(job).attempt
      ? { attempts: attempts.map((a) => toAttempt(job, a)), retryAt: job.status === 'Queuing' ? job.notBefore : null }
      : {}),
    nodes: nodes.map((n) => ({
      index: n.index,
      hostname: n.hostname,
      ...(n.hostName ? { host: n.hostName } : {}),
      state: n.state,
      exitCode: n.exitCode,
      transfers: transfersOf(n.transfer),
    })),
    events,
  };
}

/** The stored transfers of a node, download first. */
function transfersOf(json: string | null): NodeTransfer[] {
  if (!json) return [];
  const steps = JSON.parse(json) as Record<string, unknown>;
  return (['download', 'upload'] as const).flatMap((step) => (steps[step] ? [NodeTransfer.parse(steps[step])] : []));
}
