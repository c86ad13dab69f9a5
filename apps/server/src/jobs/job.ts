import type { CreateTrainingJobRequest, FailureClass, JobStatus } from '@tc/contracts';

/** A job as the domain sees it; repositories map rows to this, routes map it to the contract. */
export interface JobRecord {
  id: number;
  name: string;
  version: string;
  description: string | null;
  status: JobStatus;
  reason: string | null;
  /** The class of the failure (or `stopped`) once the run ended without success. */
  failureClass: FailureClass | null;
  spec: CreateTrainingJobRequest;
  poolId: string;
  flavorId: string;
  nodeCount: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  /** The user who made it; null only for jobs made before accounts existed and no admin yet. */
  ownerId: number | null;
  /** The image ID the check passed at, which the containers run; null until then. */
  imageId: string | null;
  /** Its `repo@sha256:…` when it came from a registry. */
  imageDigest: string | null;
  /** The attempt that runs or ran last: 1, then one more per automatic retry. */
  attempt: number;
  /** A retry waiting for its backoff: the scheduler does not start it before this. */
  notBefore: string | null;
}

/** One attempt of a job (the first run or a retry), as job_attempts keeps it. */
export interface JobAttemptRecord {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  /** null while it runs. */
  status: JobStatus | null;
  reason: string | null;
  failureClass: FailureClass | null;
  /** Per node: the seq of its first log line in this attempt. */
  firstSeqs: number[];
}

export interface JobNodeRecord {
  index: number;
  hostname: string;
  containerId: string | null;
  state: string;
  exitCode: number | null;
  /** JSON of { download?: NodeTransfer, upload?: NodeTransfer }, while and after data moves. */
  transfer: string | null;
  /** The node's work folder on its engine host (relative to the node root), once made. */
  workDir: string | null;
  /** On a multi-host engine: the host it was placed on (EngineNode id and hostname); null otherwise. */
  hostId: string | null;
  hostName: string | null;
}

export interface JobEventRecord {
  at: string;
  type: string;
  message: string;
  /** The attempt it happened in. */
  attempt: number;
}

/** Event types of the timeline; the string is what clients see. */
export const EventType = {
  created: 'created',
  queued: 'queued',
  /** A multi-host job whose ranks did not all come up went back to the queue (once). */
  requeued: 'requeued',
  /** A failed run goes back to the queue as the next attempt (its retry policy). */
  retry: 'retry',
  stop: 'stop',
  maxRuntime: 'max-runtime',
  stalled: 'stalled',
  recovery: 'recovery',
  imageCheck: 'image-check',
  /** Staging begins on the nodes, with its totals (the two events below end it). */
  download: 'download',
  codeDownload: 'code-download',
  dataDownload: 'data-download',
  nodeStarted: 'node-started',
  nodeExited: 'node-exited',
  outputUpload: 'output-upload',
  /** A job with a Checkpoint Path: what was restored before the boot command, and each upload. */
  checkpointRestore: 'checkpoint-restore',
  checkpointUpload: 'checkpoint-upload',
  logUpload: 'log-upload',
  status: 'status',
  failed: 'failed',
  warning: 'warning',
} as const;
