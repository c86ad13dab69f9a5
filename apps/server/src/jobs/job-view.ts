import { hideSecretValues, NodeTransfer, type TrainingJob, type TrainingJobSummary } from '@tc/contracts';
import type { JobEventRecord, JobNodeRecord, JobRecord } from './job.js';

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
  };
}

export function toTrainingJob(job: JobRecord, queuePosition: number | null, nodes: JobNodeRecord[], events: JobEventRecord[]): TrainingJob {
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
