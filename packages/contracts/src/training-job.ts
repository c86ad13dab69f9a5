import { z } from 'zod';
import { EnvVarList } from './env.js';
import { ObjectPath, isSameOrInside } from './object-path.js';
import { orEmpty } from './patterns.js';
import { cleanText } from './text.js';
import { ResourceType } from './resource-pool.js';
import { Timestamp } from './timestamp.js';
import { MetricDefinitions } from './metrics.js';

/** A string whose "missing" message names the field instead of zod's "expected string, received undefined". */
function text(label: string) {
  return z.string({ error: (iss) => (iss.input === undefined ? `${label} is required` : `${label} must be text`) });
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_-]*$/;

function identifier(label: string) {
  return text(label)
    .min(1, { error: `${label} is required` })
    .max(64, { error: `${label} must be at most 64 characters` })
    .regex(orEmpty(IDENTIFIER), { error: `${label} may contain only letters, digits, "-" and "_", and must start with a letter` });
}

export const JobName = identifier('Name');
export type JobName = z.infer<typeof JobName>;

/** Optionality is decided where it is used (`JobDescription.optional()`), so the schema stays reusable. */
export const JobDescription = cleanText(z.string().max(256, { error: 'Description must be at most 256 characters' }), 'Description', {
  multiline: true,
});
export type JobDescription = z.infer<typeof JobDescription>;

export const JobVersion = text('Version').regex(/^V\d{3,}$/, { error: 'Version must look like V001' });
export type JobVersion = z.infer<typeof JobVersion>;

export const JOB_STATUSES = ['Initializing', 'Queuing', 'Running', 'Successful', 'Running failed', 'Stopping', 'Stopped'] as const;
export const JobStatus = z.enum(JOB_STATUSES, { error: `Status must be one of: ${JOB_STATUSES.join(', ')}` });
export type JobStatus = z.infer<typeof JobStatus>;

export const TERMINAL_STATUSES = ['Successful', 'Running failed', 'Stopped'] as const satisfies readonly JobStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

const terminal: ReadonlySet<string> = new Set(TERMINAL_STATUSES);
/** Terminal jobs never change again: lists stop polling, and only these may be deleted. */
export function isTerminal(status: JobStatus): status is TerminalStatus {
  return terminal.has(status);
}

export const NOTIFICATION_EVENTS = ['OnJobRunning', 'OnJobSucceeded', 'OnJobFailed', 'OnJobStalled'] as const;
export const NotificationEvent = z.enum(NOTIFICATION_EVENTS, { error: `Event must be one of: ${NOTIFICATION_EVENTS.join(', ')}` });
export type NotificationEvent = z.infer<typeof NotificationEvent>;

/**
 * Docker's reference grammar, reduced: optional registry host (with port), lowercase path
 * components joined by `.`, `_`, `__` or dashes, an optional tag and an optional sha256 digest.
 * A bare `name:tag` is a local image, which is how the demo image is used.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
export const IMAGE_REFERENCE_PATTERN = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@sha256:[a-f0-9]{64})?$`,
);

export const ImagePath = text('Image Path')
  .min(1, { error: 'Image Path is required' })
  .max(512, { error: 'Image Path must be at most 512 characters' })
  .regex(orEmpty(IMAGE_REFERENCE_PATTERN), {
    error: 'Image Path must be an image reference like registry.example.com:5000/org/name:tag or name:tag (repository path in lowercase)',
  });

const BootCommandText = text('Boot Command')
  .min(1, { error: 'Boot Command is required' })
  .max(4096, { error: 'Boot Command must be at most 4096 characters' })
  .regex(/^$|\S/, { error: 'Boot Command must not be blank' });
// Handed to `sh -c` as a C string: a NUL would silently cut it short, and a bidi override would make
// the command the console shows differ from the one that runs. Scripts span lines, so \n and \t stay.
export const BootCommand = cleanText(BootCommandText, 'Boot Command', { multiline: true });

/** Object errors that name the section when it is missing, as the field messages do. */
function section(label: string) {
  return { error: (iss: { input?: unknown }) => (iss.input === undefined ? `${label} is required` : `${label} must be an object`) };
}

export const Algorithm = z.object(
  {
    source: z.literal('custom', { error: 'Algorithm Source must be "custom"' }),
    imagePath: ImagePath,
    codeDir: ObjectPath,
    bootCommand: BootCommand,
  },
  section('Algorithm'),
);
export type Algorithm = z.infer<typeof Algorithm>;

export const DataFromPath = z.object({ source: z.literal('path'), path: ObjectPath });
export const DataFromDataset = z.object({
  source: z.literal('dataset'),
  datasetId: cleanText(
    text('Dataset').min(1, { error: 'Dataset is required' }).max(128, { error: 'Dataset id must be at most 128 characters' }),
    'Dataset',
  ),
  version: JobVersion,
});
export const DataSource = z.discriminatedUnion('source', [DataFromPath, DataFromDataset], {
  error: (iss) =>
    iss.code === 'invalid_union'
      ? 'Data Source must be "path" or "dataset"'
      : iss.input === undefined
        ? 'Data Source is required'
        : undefined,
});
export type DataSource = z.infer<typeof DataSource>;

/** `pool` omitted or '' means the public pool. */
export const Resources = z.object(
  {
    pool: cleanText(z.string().max(64, { error: 'Resource Pool must be at most 64 characters' }), 'Resource Pool').optional(),
    type: ResourceType,
    flavor: cleanText(
      text('Specifications')
        .min(1, { error: 'Specifications is required' })
        .max(64, { error: 'Specifications must be at most 64 characters' }),
      'Specifications',
    ),
    nodes: z
      .int({ error: 'Compute Nodes must be a whole number' })
      .min(1, { error: 'Compute Nodes must be at least 1' })
      .max(16, { error: 'Compute Nodes must be at most 16' }),
  },
  section('Resources'),
);
export type Resources = z.infer<typeof Resources>;

export const MAX_RUNTIME_MINUTES = 72 * 60;
export const MaxRuntimeMinutes = z
  .int({ error: 'Max runtime must be a whole number of minutes' })
  .min(1, { error: 'Max runtime must be at least 1 minute' })
  .max(MAX_RUNTIME_MINUTES, { error: `Max runtime must be at most ${MAX_RUNTIME_MINUTES} minutes (72 hours)` });

/** The longest silence a stall watchdog waits for (a day). */
export const MAX_STALL_MINUTES = 1440;
export const STALL_ACTIONS = ['alert', 'stop'] as const;

/**
 * "Stop or alert when no log line for N minutes": a run whose nodes print nothing for that long
 * gets a `stalled` event and an OnJobStalled notification; with `stop`, it is also stopped and
 * fails with "stalled: no output for N minutes".
 */
export const StallWatchdog = z.object(
  {
    minutes: z
      .int({ error: 'Stall watchdog minutes must be a whole number' })
      .min(1, { error: 'Stall watchdog must wait at least 1 minute' })
      .max(MAX_STALL_MINUTES, { error: `Stall watchdog must wait at most ${MAX_STALL_MINUTES} minutes (24 hours)` }),
    action: z.enum(STALL_ACTIONS, { error: 'Stall action must be alert or stop' }),
  },
  section('Stall watchdog'),
);
export type StallWatchdog = z.infer<typeof StallWatchdog>;

/**
 * Why a run ended without success, as a class: `platform` (image pull, staging or upload,
 * engine error, container removed, console-side error), `resources` (killed for exceeding the
 * flavor's memory), `user` (the boot command failed, or its image or data did not pass),
 * `stopped` (a user stopped it), `max-runtime`.
 */
export const FAILURE_CLASSES = ['platform', 'resources', 'user', 'stopped', 'max-runtime'] as const;
export const FailureClass = z.enum(FAILURE_CLASSES, { error: `Failure class must be one of: ${FAILURE_CLASSES.join(', ')}` });
export type FailureClass = z.infer<typeof FailureClass>;

/** The most retries a job may ask for: with the first run, four attempts. */
export const MAX_RETRIES = 3;
/** A stop ends all retrying, so `stopped` is not a class a run can be retried for. */
export const RETRYABLE_FAILURE_CLASSES = ['platform', 'resources', 'user', 'max-runtime'] as const satisfies readonly FailureClass[];
/** What a policy without `on` retries: the platform's failures only (a lost host, a removed container). */
export const DEFAULT_RETRY_ON: readonly FailureClass[] = ['platform'];

/**
 * Automatic retry: a failed run whose class is in `on` (default: platform only) runs again as
 * a new attempt of the same version, after a backoff, through the queue. `maxAttempts` counts
 * the retries (0–3), so a job runs at most maxAttempts + 1 times.
 */
export const RetryPolicy = z.object(
  {
    maxAttempts: z
      .int({ error: 'Automatic Retry must be a whole number of retries' })
      .min(0, { error: 'Automatic Retry must be at least 0' })
      .max(MAX_RETRIES, { error: `Automatic Retry must be at most ${MAX_RETRIES}` }),
    on: z
      .array(
        z.enum(RETRYABLE_FAILURE_CLASSES, {
          error: `Retry classes must be among: ${RETRYABLE_FAILURE_CLASSES.join(', ')} (a stopped run is never retried)`,
        }),
      )
      .max(RETRYABLE_FAILURE_CLASSES.length, { error: 'each retry class may be chosen once' })
      .refine((on) => new Set(on).size === on.length, { error: 'each retry class may be chosen once' })
      .optional(),
  },
  section('Automatic Retry'),
);
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** `topic: ''` means "no notification", so a form can keep the section's values while it is switched off. */
export const Notification = z
  .object(
    {
      topic: cleanText(z.string().max(128, { error: 'Topic must be at most 128 characters' }), 'Topic'),
      events: z.array(NotificationEvent),
    },
    section('Notification'),
  )
  .superRefine(
    (n, ctx) => {
      if (n.topic !== '' && n.events.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['events'], message: 'choose at least one event to notify' });
      }
      if (new Set(n.events).size !== n.events.length) {
        ctx.addIssue({ code: 'custom', path: ['events'], message: 'each event may be chosen once' });
      }
    },
    { when: (p) => isRecord(p.value) && typeof p.value.topic === 'string' && Array.isArray(p.value.events) },
  );
export type Notification = z.infer<typeof Notification>;

export const SaveConfig = z.object(
  {
    name: identifier('Configuration name'),
    description: cleanText(
      z.string().max(256, { error: 'Configuration description must be at most 256 characters' }),
      'Configuration description',
      { multiline: true },
    ).optional(),
  },
  section('Saving Training Parameters'),
);
export type SaveConfig = z.infer<typeof SaveConfig>;

/**
 * The request's fields without the cross-field rule. It is what a stored job's `spec` is
 * checked against on the way out (a rule added later must not turn old jobs into 500s), and
 * unlike the refined schema it still supports `.pick()`/`.shape` for step-by-step validation.
 *
 * No `.default()` and no `.transform()` anywhere: input and output types stay identical for
 * react-hook-form, and the OpenAPI conversion stays exact. Omitted optionals are defaulted by
 * the server (env → [], resources → smallest public CPU flavor × 1).
 */
export const TrainingJobSpec = z.object(
  {
    name: JobName,
    description: JobDescription.optional(),
    algorithm: Algorithm,
    data: DataSource,
    trainOutput: ObjectPath,
    /**
     * Where the job's checkpoints are kept: /home/work/checkpoints/ is uploaded there while the
     * job runs (changed files only) and restored from it before the boot command starts, for a
     * retry and for a new version that keeps the path. Not the data path nor inside it.
     */
    checkpointPath: ObjectPath.optional(),
    env: EnvVarList.optional(),
    logPath: ObjectPath.optional(),
    resources: Resources.optional(),
    maxRuntimeMinutes: MaxRuntimeMinutes.optional(),
    stallWatchdog: StallWatchdog.optional(),
    retry: RetryPolicy.optional(),
    notification: Notification.optional(),
    /** Metrics read from the log by regular expression (name + one capture group), as SageMaker's metric definitions. */
    metrics: MetricDefinitions.optional(),
    saveConfig: SaveConfig.optional(),
  },
  section('The request body'),
);
export type TrainingJobSpec = z.infer<typeof TrainingJobSpec>;

export const TRAIN_OUTPUT_INSIDE_DATA_MESSAGE = 'Training Output Path must not be the data path or inside it';
export const CHECKPOINT_INSIDE_DATA_MESSAGE = 'Checkpoint Path must not be the data path or inside it';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isObjectPath(v: unknown): v is string {
  return typeof v === 'string' && ObjectPath.safeParse(v).success;
}

/** What the output-outside-data rule needs of a schema's value. */
interface OutputAndData {
  trainOutput: string;
  checkpointPath?: string;
  data: { source: 'path'; path: string } | { source: 'dataset' };
}

/**
 * The output is uploaded after the run; inside the data directory it would end up in the next
 * run's input. Checked whenever both paths are valid, even if other fields are not, so the form
 * shows this error together with the rest. Shared by the create request and saved parameter
 * sets, so the rule is written once.
 */
export function withOutputOutsideData<T extends z.ZodType<OutputAndData>>(schema: T): T {
  return withCheckpointOutsideData(schema).superRefine(
    (req, ctx) => {
      if (req.data.source === 'path' && isSameOrInside(req.trainOutput, req.data.path)) {
        ctx.addIssue({ code: 'custom', path: ['trainOutput'], message: TRAIN_OUTPUT_INSIDE_DATA_MESSAGE });
      }
    },
    {
      when: ({ value }) =>
        isRecord(value) &&
        isObjectPath(value.trainOutput) &&
        isRecord(value.data) &&
        value.data.source === 'path' &&
        isObjectPath(value.data.path),
    },
  );
}

/** Checkpoints are restored into the container; inside the data directory they would be staged as data too. */
function withCheckpointOutsideData<T extends z.ZodType<OutputAndData>>(schema: T): T {
  return schema.superRefine(
    (req, ctx) => {
      if (req.data.source === 'path' && req.checkpointPath && isSameOrInside(req.checkpointPath, req.data.path)) {
        ctx.addIssue({ code: 'custom', path: ['checkpointPath'], message: CHECKPOINT_INSIDE_DATA_MESSAGE });
      }
    },
    {
      when: ({ value }) =>
        isRecord(value) &&
        isObjectPath(value.checkpointPath) &&
        isRecord(value.data) &&
        value.data.source === 'path' &&
        isObjectPath(value.data.path),
    },
  );
}

export const CreateTrainingJobRequest = withOutputOutsideData(TrainingJobSpec);
export type CreateTrainingJobInput = z.input<typeof CreateTrainingJobRequest>;
export type CreateTrainingJobRequest = z.output<typeof CreateTrainingJobRequest>;

/**
 * Sent by the wizard (and by careful scripts) with a create: repeating the POST with the same key
 * returns the job the first one made and creates nothing, so a retry after a lost response is
 * safe.
 */
export const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, { error: 'Idempotency-Key must be 1 to 255 visible ASCII characters' });
// Loose: the other request headers pass through untouched.
export const CreateTrainingJobHeaders = z.looseObject({ 'idempotency-key': IdempotencyKey.optional() });

/**
 * A node's data transfer as it happens: code and data coming down before the run, outputs going
 * up after it. Totals are known from the start (the listing); done counts grow.
 */
export const NodeTransfer = z.object({
  step: z.enum(['download', 'upload']),
  files: z.int().min(0),
  filesTotal: z.int().min(0),
  bytes: z.number().min(0),
  bytesTotal: z.number().min(0),
  /** Whether the step is over (its totals stay for the record). */
  done: z.boolean(),
});
export type NodeTransfer = z.infer<typeof NodeTransfer>;

export const JobNode = z.object({
  index: z.int().min(0),
  hostname: z.string(),
  /** On a cluster (ENGINE=swarm): the machine the node runs on; absent on one engine. */
  host: z.string().optional(),
  state: z.string(),
  exitCode: z.int().nullable(),
  /** The node's transfers so far: the download before the run, then the upload after it. */
  transfers: z.array(NodeTransfer).optional(),
});
export type JobNode = z.infer<typeof JobNode>;

export const JobEvent = z.object({
  at: Timestamp,
  type: z.string(),
  message: z.string(),
  /** The attempt it happened in (1 unless the job was retried). */
  attempt: z.int().min(1).optional(),
});
export type JobEvent = z.infer<typeof JobEvent>;

/** Why a queued job has not started: its place, what is short, the jobs ahead, an estimate. */
export const JobWaiting = z.object({
  position: z.int().min(1),
  pool: z.string(),
  /** What the job needs that is not free once the running jobs and those queued ahead are served. */
  short: z.array(z.object({ resource: z.enum(['vCPUs', 'memory (GiB)', 'GPUs']), need: z.number(), free: z.number() })),
  /** The running jobs that hold the pool and the queued ones that start first; another user's without its name. */
  ahead: z.array(
    z.object({
      name: z.string().nullable(),
      version: z.string().nullable(),
      state: z.enum(['running', 'queued']),
      flavor: z.string(),
      nodes: z.int(),
      /** From its max runtime; null without one. */
      expectedEnd: Timestamp.nullable(),
    }),
  ),
  /** The latest start if every job ahead runs its full max runtime; null when one has none. */
  estimatedStart: Timestamp.nullable(),
  /** All of it in words. */
  summary: z.string(),
});
export type JobWaiting = z.infer<typeof JobWaiting>;

/** One run of a job: the first, or a retry. Its logs are read with the logs API's `attempt`. */
export const JobAttempt = z.object({
  attempt: z.int().min(1),
  /** When it left the queue (initialization began). */
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  /** The job's status as this attempt ended (Running failed for one that was retried); while it runs, the job's. */
  status: JobStatus,
  reason: z.string().nullable(),
  failureClass: FailureClass.nullable(),
});
export type JobAttempt = z.infer<typeof JobAttempt>;

export const TrainingJob = z.object({
  id: z.string(),
  name: JobName,
  version: JobVersion,
  description: JobDescription.optional(),
  status: JobStatus,
  /** The failing step and its error when the job failed; null otherwise. */
  reason: z.string().nullable(),
  /** The class of that failure (or `stopped`); null while running and for a success. */
  failureClass: FailureClass.nullable().optional(),
  /** 1 for the next job to start while Queuing; null in every other status. */
  queuePosition: z.int().min(1).nullable(),
  /** Why it is still Queuing; null in every other status. */
  waiting: JobWaiting.nullable().optional(),
  spec: TrainingJobSpec,
  /**
   * The image ID (sha256:…) the image check passed at; the job's containers run exactly this
   * image, whatever the tag in spec.algorithm.imagePath points at later. null until checked.
   */
  imageId: z.string().nullable().optional(),
  /** The image's `repo@sha256:…` when it came from a registry; null for a built or loaded image. */
  imageDigest: z.string().nullable().optional(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  /** The attempt that runs, or ran last (1 for the first run); a retry is the next attempt. */
  attempt: z.int().min(1).optional(),
  /** How many attempts the job may have: its retry policy's maxAttempts + 1. */
  maxAttempts: z.int().min(1).optional(),
  attempts: z.array(JobAttempt).optional(),
  /** A retry back in the queue waits out its backoff: it does not start before this. */
  retryAt: Timestamp.nullable().optional(),
  nodes: z.array(JobNode),
  events: z.array(JobEvent),
});
export type TrainingJob = z.infer<typeof TrainingJob>;

export const TrainingJobSummary = z.object({
  name: JobName,
  version: JobVersion,
  status: JobStatus,
  reason: z.string().nullable(),
  failureClass: FailureClass.nullable().optional(),
  queuePosition: z.int().min(1).nullable(),
  /** While Queuing: why, in words (JobWaiting.summary); null otherwise. */
  waitingSummary: z.string().nullable().optional(),
  /** Flavor id; look its type and size up in /resource-pools. */
  flavor: z.string(),
  nodes: z.int().min(0),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  /** The attempt that runs or ran last; present once a job has a retry policy. */
  attempt: z.int().min(1).optional(),
  maxAttempts: z.int().min(1).optional(),
  /** How many versions the job name has (that the caller may see); only in a `latest=true` list. */
  versionCount: z.int().min(1).optional(),
});
export type TrainingJobSummary = z.infer<typeof TrainingJobSummary>;

export const TrainingJobList = z.object({
  items: z.array(TrainingJobSummary),
  total: z.int().min(0),
});
export type TrainingJobList = z.infer<typeof TrainingJobList>;

/** `name` is a substring filter, so it is not held to the JobName rules. */
export const ListTrainingJobsQuery = z.object({
  name: z.string().max(64).optional(),
  status: JobStatus.optional(),
  failureClass: FailureClass.optional(),
  /**
   * true: one row per job name, its latest version, with `versionCount` (the console's list);
   * the status filter then applies to that latest version. Absent or false: every version.
   * The words themselves (no transform, so the query stays representable in OpenAPI; a coerced
   * boolean would read "false" as true).
   */
  latest: z.enum(['true', 'false']).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type ListTrainingJobsQuery = z.infer<typeof ListTrainingJobsQuery>;

export const JobParams = z.object({ name: JobName, version: JobVersion });
export type JobParams = z.infer<typeof JobParams>;
