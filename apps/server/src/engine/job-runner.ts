import { parseObjectPath, type FailureClass, type Flavor, type JobStatus, type NodeTransfer } from '@tc/contracts';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ContainerGoneError, HostLostError, type ContainerEngine, type ExitInfo } from './container-engine.js';
import type { NodeAgent } from './node-agent.js';
import {
  planStaging,
  stageOnNode,
  throttled,
  TransferError,
  uploadFromNode,
  type ScannedFile,
  type StagingPlan,
  type StagingReport,
} from './node-data.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { JobRepository } from '../jobs/job-repository.js';
import type { LogRepository } from './log-repository.js';
import type { ImageCheckRepository } from './image-check-repository.js';
import type { PoolConfig } from '../config.js';
import type { ResourcePools } from './resource-pools.js';
import { EventType, type JobRecord } from '../jobs/job.js';
import { checkImage } from './image-check.js';
import { nodeHostnames } from './job-env.js';
import { LABEL, launchPlan } from './launch-plan.js';
import { recoveryPlan } from './recovery-plan.js';
import { CHECKPOINT_DIR, CODE_ROOT, CONTAINER_UID, DATA_DIR, lastSegment, OUTPUT_DIR, WORK_DIR } from './paths.js';
import { DEFAULT_LOG_MAX_BYTES, LogSink } from './log-sink.js';
import { QUOTED_LINES, quoteStderr } from './failure-reason.js';
import type { DataSnapshot } from '../datasets/dataset-service.js';
import { DEFAULT_RETRY_BACKOFF_SECONDS, retryDecision, totalAttempts } from './retry-policy.js';

/**
 * How long the log may go on arriving after a container exited. The engine (20.10) at times
 * keeps a follow open after the exit; past this, what is left is read once without follow.
 */
const LOG_DRAIN_MS = 15_000;
/** Made in the work folder when a node's staging is complete: its boot command starts then. */
const STAGED_MARKER = '.tc-staged';
/** How long removals are retried while the engine is unreachable. */
const REMOVAL_RETRY_MS = 10 * 60_000;
/** How often a running job's checkpoints go up when CHECKPOINT_UPLOAD_SECONDS is not given. */
const DEFAULT_CHECKPOINT_UPLOAD_SECONDS = 300;

export interface RunnerDeps {
  jobs: JobRepository;
  logs: LogRepository;
  verdicts: ImageCheckRepository;
  engine: ContainerEngine;
  /** Moves the job's data on its node (staging before the run, outputs after it). */
  agent: NodeAgent;
  store: ObjectStore;
  pools: Pick<ResourcePools, 'flavor' | 'pool'>;
  /** Between SIGTERM and SIGKILL when a job is stopped or runs out of time. */
  stopGraceSeconds: number;
  /** What one node's stored log may take (see LogSink); DEFAULT_LOG_MAX_BYTES when absent. */
  logMaxBytesPerNode?: number;
  /** This console's identity on the engine (see LABEL.console). */
  consoleId: string;
  /** Extra labels on every container (tests mark theirs for cleanup). */
  extraLabels?: Record<string, string>;
  /** Told when a run's stall watchdog fires (the notification OnJobStalled goes out from there). */
  onStalled?: (job: JobRecord) => void;
  /** The wait before a job's first automatic retry (doubling per attempt); DEFAULT_RETRY_BACKOFF_SECONDS when absent. */
  retryBackoffSeconds?: number;
  /** How often a running job's checkpoints are uploaded (changed files only); 300 when absent. */
  checkpointUploadSeconds?: number;
  /** A dataset version's pinned files, for jobs whose data source is a dataset. */
  dataSnapshot?: (datasetId: string, version: string) => DataSnapshot | null;
  log?: { error(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void };
}

/** A failure attributed to the step it happened in; the job's reason names both. */
class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
    /** Most steps fail for the platform's reasons (store, engine); a few for the user's. */
    readonly failureClass: FailureClass = 'platform',
  ) {
    super(message);
  }
}

/** Thrown between initialization steps when the user stopped the job meanwhile. */
class StopRequested extends Error {}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError || err instanceof StopRequested) throw err;
    throw new StepError(name, (err as Error).message);
  }
}

/**
 * Waits for every one of them, then fails with the first failure: what the others made (a
 * container created a moment after a sibling failed) is recorded before the clean-up runs.
 */
async function settledAll(work: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The agent bound to one host of a multi-host engine (a single engine's agent ignores the node). */
function onNode(agent: NodeAgent, node: string | null): NodeAgent {
  if (node === null) return agent;
  return {
    ensure: () => agent.ensure(),
    hostPath: (d) => agent.hostPath(d),
    agentPath: (d) => agent.agentPath(d),
    run: (cmd, onMessage, signal) => agent.run(cmd, onMessage, signal, node),
  };
}

/** A contract path relative to the work folder mounted at /home/work, e.g. "data". */
function rel(containerPath: string): string {
  return containerPath.slice(WORK_DIR.length + 1);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A name for a message: long ones (up to 255 bytes) cut to their start. */
function shortName(name: string): string {
  return name.length > 40 ? `${name.slice(0, 40)}…` : name;
}

function describeStaging(what: string, r: StagingReport): string {
  let m = `${what}: ${plural(r.files, 'file')}, ${r.bytes} bytes`;
  if (r.skippedLong.length)
    m += `; skipped ${r.skippedLong.length} with names over 255 characters: ${r.skippedLong.map((n) => `${n.slice(0, 40)}…`).join(', ')}`;
  if (r.skippedUnsafe.length) m += `; refused ${r.skippedUnsafe.length} unsafe keys: ${r.skippedUnsafe.join(', ')}`;
  return m;
}

/** What tells a checkpoint file changed since it was uploaded: its size and modification time. */
function checkpointKey(f: ScannedFile): string {
  return `${f.size}:${f.mtimeMs ?? ''}`;
}

/** One job being carried by this process: its containers, log sinks and what ends it. */
interface Execution {
  job: JobRecord;
  hostnames: string[];
  containers: (string | null)[];
  network: string | null;
  sinks: LogSink[];
  /** Per node: its work folder on the node (relative to the agent's node root), mounted at /home/work. */
  workDirs: (string | null)[];
  /** Per node on a multi-host engine: the host (EngineNode id) the placement chose; null on one engine. */
  hosts: (string | null)[];
  /** Per node: its host stopped answering (nothing on it can be reached any more). */
  lost: boolean[];
  /** Ends a transfer in progress when the job is stopped. */
  transfers: AbortController;
  /** Whether the containers were started (so outputs may exist and must be uploaded). */
  started: boolean;
  /** Whether the output upload was attempted; a failure there is not retried. */
  finishing: boolean;
  /** Per node: its container was removed outside the console (nothing left to collect). */
  gone: boolean[];
  stopRequested: boolean;
  timedOut: boolean;
  /** The run was stopped by its stall watchdog. */
  stalled: boolean;
  /** When a node last printed a line of its own (the stall watchdog's clock). */
  lastOutputAt: number;
  failure: string | null;
  failureClass: FailureClass;
  /** The node whose end is `failure`, when it is one node's. */
  failureNode: number | null;
  /** Checkpoints as last uploaded, by path: "size:mtime", so only changed files go up again. */
  checkpointsSent: Map<string, string>;
  /** The checkpoint upload under way, if any: the next one waits for it rather than overlap. */
  checkpointUpload: Promise<void> | null;
}

/** Where a resumed node's log continues: lines the store already has are not taken again. */
interface ResumePoint {
  at: string;
  count: number;
}

/**
 * Runs jobs on the engine: image check → network → containers → stage code and data → start →
 * capture logs → upload outputs and logs → remove. The job's row is the source of truth; each
 * step records an event, and any failure ends the job in "Running failed" with the step and the
 * error. A job outlives this process: its containers keep running, and `recoverAfterRestart`
 * picks them up where the stored log ends.
 */
export class JobRunner {
  private readonly running = new Map<number, Promise<void>>();
  private readonly executions = new Map<number, Execution>();
  /** Removals waiting for the engine to come back. */
  private readonly retries = new Set<Promise<void>>();

  constructor(private readonly deps: RunnerDeps) {}

  /** Runs an Initializing job in the background; the promise is kept so shutdown and tests can wait. */
  start(jobId: number): void {
    this.track(jobId, () => this.run(jobId));
  }

  /** Resolves when every job started so far has ended and its leftovers are removed. */
  async idle(): Promise<void> {
    while (this.running.size || this.retries.size) await Promise.allSettled([...this.running.values(), ...this.retries]);
  }

  /**
   * Stops a job: Queuing ends Stopped at once; Initializing and Running go to Stopping, their
   * containers get SIGTERM and, after the grace period, SIGKILL; outputs and logs are still
   * uploaded, then the job is Stopped. Returns false when the job had already ended.
   */
  async stop(jobId: number): Promise<boolean> {
    const { jobs } = this.deps;
    const job = jobs.getById(jobId);
    if (!job) return false;
    if (job.status === 'Stopping') return true;
    if (job.status === 'Queuing') {
      if (jobs.transition(job.id, 'Queuing', 'Stopped', { endedAt: new Date().toISOString(), failureClass: 'stopped' })) {
        this.event(job, EventType.status, 'job stopped while queuing');
        return true;
      }
      return this.stop(jobId);
    }
    if (job.status !== 'Initializing' && job.status !== 'Running') return false;
    if (!jobs.transition(job.id, job.status, 'Stopping')) return this.stop(jobId);
    this.event(job, EventType.stop, `stop requested: SIGTERM, then SIGKILL after ${this.deps.stopGraceSeconds} s`);
    const ex = this.executions.get(jobId);
    if (ex) {
      ex.stopRequested = true;
      if (ex.started) void this.stopContainers(ex);
      // Staging stops at once; an upload after a stop is still wanted (outputs are kept).
      else ex.transfers.abort();
    }
    return true;
  }

  /**
   * Carries on what a previous process left. Running and Stopping jobs whose containers are all
   * there are followed again from where their stored logs end, and finish normally; a job with a
   * container gone fails with the reason. Initializing jobs start over (nothing of theirs ran
   * yet). Containers and networks of jobs that have ended are removed.
   */
  async recoverAfterRestart(): Promise<void> {
    const { jobs, engine } = this.deps;
    // The agent's image and container made now rather than on the first job's critical path.
    this.deps.agent.ensure().catch((err: unknown) => this.deps.log?.error({ err }, 'the node agent could not be started'));
    const ours = { [LABEL.managed]: '1', [LABEL.console]: this.deps.consoleId };
    const open = jobs.listByStatus(['Initializing', 'Running', 'Stopping']);
    const plan = recoveryPlan(
      open.map((j) => ({ id: j.id, status: j.status, nodeCount: j.nodeCount, workDirs: jobs.nodes(j.id).map((n) => n.workDir) })),
      await engine.listManaged(ours),
      await engine.listManagedNetworks(ours),
      new Set(this.running.keys()),
    );
    const byId = new Map(open.map((j) => [j.id, j]));
    for (const r of plan.restart) {
      const job = byId.get(r.jobId)!;
      for (const id of r.containers) await engine.remove(id).catch(() => undefined);
      const hostOfDir = new Map(jobs.nodes(job.id).map((n) => [n.workDir, this.deps.engine.multiHost ? n.hostId : null]));
      for (const dir of r.workDirs) await this.removeWorkDir(dir, hostOfDir.get(dir) ?? null).catch(() => undefined);
      if (r.network) await engine.removeNetwork(r.network).catch(() => undefined);
      this.event(job, EventType.recovery, 'the server restarted while the job was initializing; initializing again');
      this.start(job.id);
    }
    for (const r of plan.resume) {
      this.event(byId.get(r.jobId)!, EventType.recovery, 'the server restarted; following the job again');
      this.track(r.jobId, () => this.resume(r.jobId, r.containers, r.network));
    }
    for (const id of plan.removeContainers) await engine.remove(id).catch(() => undefined);
    for (const id of plan.removeNetworks) await engine.removeNetwork(id).catch(() => undefined);
  }

  private track(jobId: number, fn: () => Promise<void>): void {
    const p = fn()
      .catch((err: unknown) => this.deps.log?.error({ err, jobId }, 'job runner crashed'))
      .finally(() => {
        this.running.delete(jobId);
        this.executions.delete(jobId);
      });
    this.running.set(jobId, p);
  }

  private event(job: JobRecord, type: string, message: string): void {
    this.deps.jobs.addEvent(job.id, type, message);
  }

  private logMaxBytes(): number {
    return this.deps.logMaxBytesPerNode ?? DEFAULT_LOG_MAX_BYTES;
  }

  private execution(job: JobRecord): Execution {
    const hostnames = nodeHostnames(job.name, job.version, job.nodeCount);
    const ex: Execution = {
      job,
      hostnames,
      containers: hostnames.map(() => null),
      network: null,
      sinks: hostnames.map(
        (_, i) =>
          new LogSink(this.deps.logs, job.id, i, {
            maxBytes: this.logMaxBytes(),
            onDropStart: (message) => this.event(job, EventType.warning, message),
          }),
      ),
      workDirs: hostnames.map(() => null),
      hosts: this.hostsOf(job.id, job.nodeCount),
      lost: hostnames.map(() => false),
      transfers: new AbortController(),
      started: false,
      finishing: false,
      gone: hostnames.map(() => false),
      stopRequested: job.status === 'Stopping',
      timedOut: false,
      stalled: false,
      lastOutputAt: Date.now(),
      failure: null,
      failureClass: 'platform',
      failureNode: null,
      checkpointsSent: new Map(),
      checkpointUpload: null,
    };
    this.executions.set(job.id, ex);
    return ex;
  }

  /** The placement's host per node on a multi-host engine; nulls on a single engine. */
  private hostsOf(jobId: number, count: number): (string | null)[] {
    if (!this.deps.engine.multiHost) return Array.from({ length: count }, () => null);
    const nodes = this.deps.jobs.nodes(jobId);
    return Array.from({ length: count }, (_, i) => nodes[i]?.hostId ?? null);
  }

  /** The agent on node i's host. */
  private agentOf(ex: Execution, i: number): NodeAgent {
    return onNode(this.deps.agent, ex.hosts[i] ?? null);
  }

  private flavorOf(job: JobRecord): { flavor: Flavor; pool: PoolConfig } {
    const flavor = this.deps.pools.flavor(job.poolId, job.flavorId);
    const pool = this.deps.pools.pool(job.poolId);
    if (!flavor || !pool) throw new StepError('scheduling', `flavor ${job.flavorId} of pool ${job.poolId} is no longer configured`);
    return { flavor, pool };
  }

  private async run(jobId: number): Promise<void> {
    const job = this.deps.jobs.getById(jobId);
    // Stopped between the scheduler's start and this run: nothing was made yet.
    if (
      job?.status === 'Stopping' &&
      this.deps.jobs.transition(job.id, 'Stopping', 'Stopped', { endedAt: new Date().toISOString(), failureClass: 'stopped' })
    ) {
      this.event(job, EventType.status, 'job stopped before it started');
      return;
    }
    if (!job || job.status !== 'Initializing') return;
    const ex = this.execution(job);
    const of = totalAttempts(job.spec.retry);
    if (of > 1) {
      // Where each attempt's log begins, in the log itself (the logs API reads it by `attempt`).
      for (const s of ex.sinks) s.system(`attempt ${job.attempt} of ${of}`);
    }
    // The final status is set once the containers and network are gone, so a job that shows as
    // ended holds nothing on the engine any more.
    let end: () => void;
    try {
      const { flavor, pool } = this.flavorOf(job);
      await this.initialize(ex, flavor, pool);
      await this.supervise(ex, flavor, new Map());
      await this.finish(ex);
      end = () => this.conclude(ex);
    } catch (err) {
      end = await this.abort(ex, err);
    } finally {
      await this.cleanUp(ex);
    }
    end();
  }

  private async resume(jobId: number, containers: (string | null)[], network: string | null): Promise<void> {
    const job = this.deps.jobs.getById(jobId);
    if (!job) return;
    const ex = this.execution(job);
    ex.containers = containers;
    ex.network = network;
    ex.workDirs = this.deps.jobs.nodes(job.id).map((n) => n.workDir);
    ex.started = true;
    let end: () => void;
    try {
      const missing = containers.map((c, i) => (c ? -1 : i)).filter((i) => i >= 0);
      if (missing.length) {
        throw new StepError(
          'recovery',
          `the container of ${missing.map((i) => `node ${i} (${ex.hostnames[i]})`).join(', ')} vanished while the server was down`,
        );
      }
      const { flavor } = this.flavorOf(job);
      const points = new Map<number, ResumePoint>();
      ex.hostnames.forEach((_, i) => {
        const p = this.deps.logs.resumePoint(job.id, i);
        if (p) points.set(i, p);
      });
      if (ex.stopRequested) void this.stopContainers(ex);
      await this.supervise(ex, flavor, points);
      await this.finish(ex);
      end = () => this.conclude(ex);
    } catch (err) {
      end = await this.abort(ex, err);
    } finally {
      await this.cleanUp(ex);
    }
    end();
  }

  private checkStop(ex: Execution): void {
    if (ex.stopRequested) throw new StopRequested();
  }

  /**
   * Image check, network, containers, staging, start; ends with the job Running. What does not
   * depend on each other overlaps: the staging plan (listing, signing) and the agent are made
   * ready while the image is checked; containers are created while the nodes stage; every node
   * stages code and data at once.
   */
  private async initialize(ex: Execution, flavor: Flavor, pool: PoolConfig): Promise<void> {
    const { jobs, engine, store, agent } = this.deps;
    const { job, hostnames } = ex;
    const log0 = ex.sinks[0]!;

    const code = parseObjectPath(job.spec.algorithm.codeDir);
    const codeFolder = lastSegment(code.prefix);
    const codeDest = `${rel(CODE_ROOT)}/${codeFolder}`;
    const dataSpec = job.spec.data;
    let data: { bucket: string; prefix: string; store: ObjectStore };
    let dataUrl: string;
    if (dataSpec.source === 'path') {
      data = { ...parseObjectPath(dataSpec.path), store };
      dataUrl = dataSpec.path;
    } else {
      const snap = this.deps.dataSnapshot?.(dataSpec.datasetId, dataSpec.version);
      if (!snap) throw new StepError('data download', `dataset ${dataSpec.datasetId} ${dataSpec.version} no longer exists`, 'user');
      data = snap;
      dataUrl = snap.url;
    }
    // Started now, awaited after the image check: neither needs the other.
    const checkpoints = job.spec.checkpointPath ? parseObjectPath(job.spec.checkpointPath) : null;
    const plans = Promise.all([
      step('code download', () => planStaging(store, code.bucket, code.prefix, codeDest)),
      step('data download', () => planStaging(data.store, data.bucket, data.prefix, rel(DATA_DIR))),
      step('node agent', () => agent.ensure()),
      // What a previous attempt or version left at the Checkpoint Path, restored before the boot command.
      checkpoints
        ? step('checkpoint restore', () => planStaging(store, checkpoints.bucket, checkpoints.prefix, rel(CHECKPOINT_DIR)))
        : null,
    ]);
    plans.catch(() => undefined);

    if (engine.multiHost && ex.hosts.some((h) => h === null)) {
      throw new StepError('scheduling', 'the job was started without a host for every node (the placement is missing)');
    }
    const check = await step('image check', () => checkImage(job.spec.algorithm.imagePath, { engine, verdicts: this.deps.verdicts }));
    const checkMsg = check.passed
      ? `image ${job.spec.algorithm.imagePath} passed the check (default user UID ${CONTAINER_UID})${check.cached ? ', verdict reused' : ''}`
      : `image ${job.spec.algorithm.imagePath} failed the check: ${check.reason}`;
    this.event(job, EventType.imageCheck, checkMsg);
    log0.system(checkMsg);
    // An image that does not meet the contract (root, group 0) is the user's to fix.
    if (!check.passed || !check.imageId) throw new StepError('image check', check.reason ?? 'failed', 'user');
    // Containers are made from the checked ID, not the tag: a re-tag after the check runs nothing
    // unchecked. On many hosts, from the registry digest: every node pulls those same bytes.
    const imageId = engine.multiHost ? check.imageDigest : check.imageId;
    if (!imageId) {
      throw new StepError(
        'image check',
        `image ${job.spec.algorithm.imagePath} has no registry digest: on a cluster every node pulls the image, so it must come from a registry they reach`,
        'user',
      );
    }
    jobs.setImage(job.id, check.imageId, check.imageDigest);
    this.checkStop(ex);

    const [codePlan, dataPlan, , checkpointPlan] = await plans;
    const skipped = dataPlan.report;
    const total = skipped.files + skipped.skippedLong.length + skipped.skippedUnsafe.length;
    if (total > 0 && skipped.files === 0) {
      for (const n of skipped.skippedLong) log0.system(`skipped data file with a name over 255 characters: ${n}`);
      throw new StepError(
        'data download',
        `every data file was skipped (${plural(skipped.skippedLong.length, 'name')} over 255 characters, ${skipped.skippedUnsafe.length} unsafe); nothing left to train on`,
      );
    }
    // A fresh folder per attempt: a transfer a previous process left running can never write
    // into this one.
    const attempt = randomBytes(4).toString('hex');
    hostnames.forEach((_, i) => {
      const dir = `${job.id}-${i}-${attempt}`;
      ex.workDirs[i] = dir;
      jobs.updateNode(job.id, i, { workDir: dir });
    });

    const plan = launchPlan({
      job,
      flavor,
      pool,
      imageId,
      dataUrl,
      consoleId: this.deps.consoleId,
      workDirHostPaths: ex.workDirs.map((d) => agent.hostPath(d!)),
      logMaxBytes: this.logMaxBytes(),
      extraLabels: this.deps.extraLabels,
      waitFor: `${WORK_DIR}/${STAGED_MARKER}`,
    });
    const each = job.nodeCount > 1 ? ` to each of ${job.nodeCount} nodes` : '';
    this.event(
      job,
      EventType.download,
      `downloading code (${plural(codePlan.report.files, 'file')}, ${codePlan.report.bytes} bytes) and data (${plural(dataPlan.report.files, 'file')}, ${dataPlan.report.bytes} bytes)${each}, straight from the store`,
    );
    const dirs = [rel(CODE_ROOT), `${rel(CODE_ROOT)}/${codeFolder}`, rel(DATA_DIR), rel(OUTPUT_DIR)];
    if (checkpointPlan) dirs.push(rel(CHECKPOINT_DIR));
    if (engine.multiHost) {
      // A swarm task whose bind source does not exist yet is rejected, where a local engine
      // makes the folder: each node's folder is made first (one short call per node).
      await step('data download', () =>
        settledAll(
          hostnames.map((_, i) =>
            this.agentOf(ex, i).run(
              { command: 'stage', input: { root: agent.agentPath(ex.workDirs[i]!), uid: CONTAINER_UID, dirs, groups: [] } },
              () => undefined,
              ex.transfers.signal,
            ),
          ),
        ),
      );
    }
    const staged = Promise.all(hostnames.map((_, i) => this.stageNode(ex, i, codePlan, dataPlan, codeFolder, dirs, checkpointPlan)));
    staged.catch(() => undefined);
    const net = plan.network;
    if (net) ex.network = await step('network creation', () => engine.createNetwork(net.name, net.labels, net.internal));
    // Created and started while the nodes stage: the boot command waits for the staging marker,
    // so a container's start (as long as a whole `docker run`) is off the critical path. Until
    // the marker is there nothing of the user's has run; a failure before it removes the
    // containers like any failed initialization.
    await settledAll(
      plan.containers.map(async (spec, i) => {
        const host = ex.hosts[i];
        const id = await step('container creation', () => engine.createContainer(host ? { ...spec, node: host } : spec));
        ex.containers[i] = id;
        jobs.updateNode(job.id, i, { containerId: id, state: 'created' });
        await step('container start', () => engine.start(id));
      }),
    );
    await staged;
    this.checkStop(ex);
    ex.started = true;
    hostnames.forEach((hostname, i) => {
      jobs.updateNode(job.id, i, { state: 'running' });
      this.event(job, EventType.nodeStarted, `node ${i} (${hostname}) started`);
    });
    if (!jobs.transition(job.id, 'Initializing', 'Running', { startedAt: new Date().toISOString() })) {
      // Stopped while the containers were starting: they run until the stop takes them down.
      if (jobs.getById(job.id)?.status !== 'Stopping') throw new StepError('container start', 'the job was changed while starting');
      ex.stopRequested = true;
      void this.stopContainers(ex);
    }
  }

  /** Stages code and data into one node's work folder, with progress on the node and an event per group. */
  private async stageNode(
    ex: Execution,
    i: number,
    codePlan: StagingPlan,
    dataPlan: StagingPlan,
    codeFolder: string,
    dirs: string[],
    checkpointPlan: StagingPlan | null,
  ): Promise<void> {
    const { job } = ex;
    const sink = ex.sinks[i]!;
    const on = job.nodeCount > 1 ? ` on node ${i}` : '';
    const progress = this.progressWriter(job.id, i);
    const groupDone = (name: string): void => {
      if (name === 'code') {
        const msg = describeStaging(`code downloaded to ${CODE_ROOT}/${codeFolder}/${on}`, codePlan.report);
        this.event(job, EventType.codeDownload, msg);
        sink.system(msg);
      } else if (name === 'checkpoints') {
        const msg = describeStaging(
          `checkpoints restored from ${job.spec.checkpointPath} to ${CHECKPOINT_DIR}/${on}`,
          checkpointPlan!.report,
        );
        this.event(job, EventType.checkpointRestore, msg);
        sink.system(msg);
      } else {
        const r = dataPlan.report;
        const msg = describeStaging(`data downloaded to ${DATA_DIR}/${on}`, r);
        this.event(job, EventType.dataDownload, msg);
        sink.system(msg);
        for (const n of r.skippedLong) sink.system(`skipped data file with a name over 255 characters: ${n}`);
      }
    };
    try {
      await stageOnNode(
        this.agentOf(ex, i),
        ex.workDirs[i]!,
        dirs,
        [
          { name: 'code', plan: codePlan },
          { name: 'data', plan: dataPlan },
          ...(checkpointPlan ? [{ name: 'checkpoints', plan: checkpointPlan }] : []),
        ],
        progress.set,
        groupDone,
        ex.transfers.signal,
        STAGED_MARKER,
        // Node 0 keeps the checkpoints: what it restored is in the store already, so only what the
        // run changes goes up again.
        i === 0 && checkpointPlan
          ? {
              groups: ['checkpoints'],
              onStaged: (f) => ex.checkpointsSent.set(f.path.slice(rel(CHECKPOINT_DIR).length + 1), checkpointKey(f)),
            }
          : undefined,
      );
    } catch (err) {
      if (ex.stopRequested) throw new StopRequested();
      const e = err instanceof TransferError ? err : new TransferError((err as Error).message, 'failed', undefined);
      throw new StepError(
        e.group === 'code' ? 'code download' : e.group === 'checkpoints' ? 'checkpoint restore' : 'data download',
        e.message,
      );
    } finally {
      progress.flush();
    }
  }

  /** A node's transfer progress, written to its row at most twice a second. */
  private progressWriter(jobId: number, node: number): { set(t: NodeTransfer): void; flush(): void } {
    return throttled<NodeTransfer>(500, (t) => this.deps.jobs.setTransfer(jobId, node, t));
  }

  /**
   * Follows every node's log and waits for every node to exit. The first node that fails ends
   * the job: the others are stopped. A max runtime, when set, stops all of them when it passes.
   */
  private async supervise(ex: Execution, flavor: Flavor, resumeAt: Map<number, ResumePoint>): Promise<void> {
    const { jobs, engine } = this.deps;
    const { job, hostnames } = ex;
    const timer = this.maxRuntimeTimer(ex);
    const watchdog = this.stallWatchdog(ex);
    const saver = this.checkpointSaver(ex);
    try {
      const nodes = ex.containers.map(async (id, i) => {
        const sink = ex.sinks[i]!;
        const point = resumeAt.get(i);
        let skip = point?.count ?? 0;
        const since = point ? new Date(point.at) : undefined;
        const drain = new AbortController();
        // Settled into a value at once: the follow may fail (its container removed) long before
        // the wait below returns, and an unhandled rejection would end the whole process.
        const logsDone = engine
          .followLogs(
            id!,
            (l) => {
              // The engine repeats the millisecond the stored log ends in; its first `count`
              // lines there are stored already, in this same order.
              if (since && skip > 0 && l.at.getTime() === since.getTime()) {
                skip -= 1;
                return;
              }
              ex.lastOutputAt = Date.now();
              sink.add(l.stream, l.text, l.at);
            },
            since,
            drain.signal,
          )
          .then(
            () => null,
            (err: unknown) => err,
          );
        const node = `node ${i} (${hostnames[i]})`;
        let exit: ExitInfo;
        try {
          exit = await engine.wait(id!);
        } catch (err) {
          drain.abort();
          await logsDone;
          if (err instanceof HostLostError) {
            ex.lost[i] = true;
            jobs.updateNode(job.id, i, { state: 'lost' });
            this.event(job, EventType.nodeExited, `${node}: ${err.message}`);
            this.nodeFailed(ex, `${node} on host ${err.hostname}: ${err.message}`);
            return;
          }
          if (err instanceof ContainerGoneError) {
            ex.gone[i] = true;
            jobs.updateNode(job.id, i, { state: 'removed' });
            this.event(job, EventType.nodeExited, `${node}: its container was removed outside the console`);
            this.nodeFailed(ex, `${node}: its container was removed outside the console (by docker rm or an engine clean-up)`);
            return;
          }
          this.nodeFailed(ex, `${node}: ${(err as Error).message}`);
          return;
        }
        // The container has exited; what it wrote arrives within moments, or is read once more.
        const late = setTimeout(() => drain.abort(), LOG_DRAIN_MS);
        const logErr = await logsDone;
        clearTimeout(late);
        if (logErr) sink.system(`log capture ended early: ${(logErr as Error).message}`);
        jobs.updateNode(job.id, i, { state: 'exited', exitCode: exit.exitCode });
        const oom = exit.oomKilled ? ' (killed: out of memory)' : '';
        this.event(job, EventType.nodeExited, `${node} exited with code ${exit.exitCode}${oom}`);
        const who = job.nodeCount > 1 ? node : 'boot command';
        if (exit.oomKilled) {
          // Also when the boot command went on and exited 0: a process of the run was killed, so
          // the run did not do what it was asked (the container contract).
          const then = exit.exitCode === 0 ? '; the boot command then exited with code 0' : `, exit code ${exit.exitCode}`;
          const what = exit.exitCode === 0 ? `a process of the ${who}` : who;
          this.nodeFailed(ex, `${what} was killed for exceeding the flavor's memory (${flavor.memoryGiB} GiB)${then}`, i, 'resources');
        } else if (exit.exitCode !== 0) {
          this.nodeFailed(ex, `${who} exited with code ${exit.exitCode}`, i, 'user');
        }
      });
      await Promise.all(nodes);
    } finally {
      if (timer) clearTimeout(timer);
      watchdog?.clear();
      if (saver) clearInterval(saver);
      for (const s of ex.sinks) s.flush();
    }
  }

  /**
   * "Stop or alert when no log line for N minutes": checks when the last line came, so a busy
   * log costs one clock read per line and no timer churn. Fires once per silence (a new line
   * arms it again); with `stop`, the run is stopped and fails as stalled.
   */
  private stallWatchdog(ex: Execution): { clear(): void } | null {
    const w = ex.job.spec.stallWatchdog;
    if (!w) return null;
    const limit = w.minutes * 60_000;
    ex.lastOutputAt = Date.now();
    let firedFor = -1;
    let timer: NodeJS.Timeout | null = null;
    const check = (): void => {
      const quiet = Date.now() - ex.lastOutputAt;
      if (quiet >= limit && firedFor !== ex.lastOutputAt && !ex.stopRequested && !ex.failure && !ex.timedOut && !ex.stalled) {
        firedFor = ex.lastOutputAt;
        const msg = `stalled: no output for ${plural(w.minutes, 'minute')}`;
        this.event(ex.job, EventType.stalled, w.action === 'stop' ? `${msg}; stopping the job` : msg);
        ex.sinks[0]!.system(w.action === 'stop' ? `${msg}; stopping the job` : msg);
        const current = this.deps.jobs.getById(ex.job.id);
        if (current) this.deps.onStalled?.(current);
        if (w.action === 'stop') {
          ex.stalled = true;
          void this.stopContainers(ex);
        }
      }
      const next = quiet >= limit ? limit : limit - quiet;
      timer = setTimeout(check, next);
    };
    timer = setTimeout(check, limit);
    return {
      clear: () => {
        if (timer) clearTimeout(timer);
      },
    };
  }

  /** Records the first failure (a stop or timeout is not one) and stops the other nodes. */
  private nodeFailed(ex: Execution, why: string, node: number | null = null, failureClass: FailureClass = 'platform'): void {
    if (ex.failure || ex.stopRequested || ex.timedOut || ex.stalled) return;
    ex.failure = why;
    ex.failureNode = node;
    ex.failureClass = failureClass;
    if (ex.job.nodeCount > 1) ex.sinks[0]!.system(`${why}; stopping the other nodes`);
    void this.stopContainers(ex);
  }

  /** Uploads the checkpoints every CHECKPOINT_UPLOAD_SECONDS while the job runs; null without a Checkpoint Path. */
  private checkpointSaver(ex: Execution): NodeJS.Timeout | null {
    if (!ex.job.spec.checkpointPath) return null;
    const seconds = this.deps.checkpointUploadSeconds ?? DEFAULT_CHECKPOINT_UPLOAD_SECONDS;
    return setInterval(() => {
      // One at a time: a slow upload is not stacked on by the next tick.
      if (!ex.checkpointUpload) void this.uploadCheckpoints(ex, null);
    }, seconds * 1000);
  }

  /**
   * Node 0's /home/work/checkpoints/ to the Checkpoint Path, only files whose size or modification
   * time changed since the last upload of this execution. Every node restores the same files, so
   * one node (the chief) keeps them. A failed upload is a warning, not the job's failure: the next
   * one tries again, and the run itself is not harmed. `when` says it in the log ("at the end");
   * a periodic upload that sends nothing says nothing.
   */
  private async uploadCheckpoints(ex: Execution, when: string | null): Promise<void> {
    await ex.checkpointUpload;
    const { job } = ex;
    const dir = ex.workDirs[0];
    if (!job.spec.checkpointPath || !dir || ex.lost[0]) return;
    const dest = parseObjectPath(job.spec.checkpointPath);
    const p = (async () => {
      try {
        const r = await uploadFromNode(
          this.agentOf(ex, 0),
          this.deps.store,
          `${dir}/${rel(CHECKPOINT_DIR)}`,
          dest.bucket,
          dest.prefix,
          () => undefined,
          {
            select: (found) => found.filter((f) => ex.checkpointsSent.get(f.path) !== checkpointKey(f)),
          },
        );
        for (const f of r.sent) ex.checkpointsSent.set(f.path, checkpointKey(f));
        if (r.files > 0 || when) {
          const msg = `checkpoints uploaded to ${job.spec.checkpointPath}${when ? ` ${when}` : ''}: ${plural(r.files, 'changed file')}, ${r.bytes} bytes`;
          this.event(job, EventType.checkpointUpload, msg);
          ex.sinks[0]!.system(msg);
        }
      } catch (err) {
        const msg = `checkpoint upload to ${job.spec.checkpointPath} failed: ${(err as Error).message}`;
        this.event(job, EventType.warning, msg);
        ex.sinks[0]!.system(msg);
      }
    })();
    ex.checkpointUpload = p;
    try {
      await p;
    } finally {
      if (ex.checkpointUpload === p) ex.checkpointUpload = null;
    }
  }

  private maxRuntimeTimer(ex: Execution): NodeJS.Timeout | null {
    const minutes = ex.job.spec.maxRuntimeMinutes;
    if (!minutes) return null;
    const started = Date.parse(this.deps.jobs.getById(ex.job.id)?.startedAt ?? new Date().toISOString());
    const left = Math.max(0, started + minutes * 60_000 - Date.now());
    return setTimeout(() => {
      if (ex.stopRequested || ex.failure || ex.stalled) return;
      ex.timedOut = true;
      const msg = `max runtime of ${plural(minutes, 'minute')} exceeded; stopping the job`;
      this.event(ex.job, EventType.maxRuntime, msg);
      ex.sinks[0]!.system(msg);
      void this.stopContainers(ex);
    }, left);
  }

  private async stopContainers(ex: Execution): Promise<void> {
    await Promise.all(
      ex.containers.map((id) =>
        id
          ? this.deps.engine
              .stop(id, this.deps.stopGraceSeconds)
              .catch((err: unknown) => this.deps.log?.error({ err, jobId: ex.job.id }, 'stopping a container failed'))
          : undefined,
      ),
    );
  }

  /** Sets the final status from how the run ended. */
  private conclude(ex: Execution): void {
    const { jobs } = this.deps;
    const { job } = ex;
    const now = new Date().toISOString();
    const current = jobs.getById(job.id)?.status;
    if (current === 'Stopping') {
      if (jobs.transition(job.id, 'Stopping', 'Stopped', { endedAt: now, failureClass: 'stopped' })) {
        this.event(job, EventType.status, 'job stopped');
      }
      return;
    }
    if (ex.timedOut) {
      this.failOrRetry(
        job,
        'Running',
        `max runtime exceeded: the job ran longer than ${plural(job.spec.maxRuntimeMinutes ?? 0, 'minute')}`,
        'max-runtime',
      );
      return;
    }
    if (ex.stalled) {
      // A run that goes quiet is the program's doing (a hang, a deadlock), not the platform's.
      this.failOrRetry(job, 'Running', `stalled: no output for ${plural(job.spec.stallWatchdog?.minutes ?? 0, 'minute')}`, 'user');
      return;
    }
    if (ex.failure) {
      this.failOrRetry(job, 'Running', `training failed: ${ex.failure}${this.stderrQuote(ex)}`, ex.failureClass);
      return;
    }
    if (jobs.transition(job.id, 'Running', 'Successful', { endedAt: now })) this.event(job, EventType.status, 'job succeeded');
  }

  /**
   * For a run that failed by its own exit: what its command last wrote to stderr (usually the
   * error itself), so the reason says why and not only the exit code. Secrets are masked.
   */
  private stderrQuote(ex: Execution): string {
    const node = ex.failureNode;
    if (node === null || ex.gone[node]) return '';
    const secrets = (ex.job.spec.env ?? []).filter((v) => v.secret).map((v) => v.value);
    const quote = quoteStderr(this.deps.logs.lastLines(ex.job.id, node, 'stderr', QUOTED_LINES), secrets);
    return quote ? `; its last lines on stderr: ${quote}` : '';
  }

  /**
   * A failed attempt: back to the queue as the next attempt when the job's retry policy covers
   * its class and attempts are left (after a backoff the scheduler waits out), else the job
   * fails. Decided before the job would end, so a retried job never shows as failed; a stop in
   * the meantime (the job no longer in `from`) ends it as before.
   */
  private failOrRetry(job: JobRecord, from: 'Initializing' | 'Running', reason: string, failureClass: FailureClass): void {
    const baseMs = (this.deps.retryBackoffSeconds ?? DEFAULT_RETRY_BACKOFF_SECONDS) * 1000;
    const d = retryDecision(failureClass, job.spec.retry, job.attempt, baseMs);
    if (d.retry) {
      const notBefore = new Date(Date.now() + d.backoffMs).toISOString();
      // Placed afresh: the host that failed it may be the one that is gone.
      if (this.deps.engine.multiHost) this.deps.jobs.setHosts(job.id, null);
      if (this.deps.jobs.transition(job.id, from, 'Queuing', { reason, failureClass, retry: { notBefore } })) {
        this.event(
          job,
          EventType.retry,
          `attempt ${job.attempt} of ${d.of} failed (${failureClass}): ${reason}; retrying as attempt ${d.nextAttempt} of ${d.of} in ${Math.round(d.backoffMs / 1000)} s`,
        );
        return;
      }
    }
    this.endFailed(job, from, reason, failureClass);
  }

  private endFailed(job: JobRecord, from: JobStatus, reason: string, failureClass: FailureClass): void {
    if (this.deps.jobs.transition(job.id, from, 'Running failed', { reason, failureClass, endedAt: new Date().toISOString() })) {
      this.event(job, EventType.failed, reason);
    }
  }

  /**
   * A step failed or a stop came during initialization: keeps what can be kept, and returns what
   * sets the final status (after the clean-up).
   */
  private async abort(ex: Execution, err: unknown): Promise<() => void> {
    const { job } = ex;
    const sink = ex.sinks[0]!;
    // A node still staging would go on writing into a folder about to be removed.
    ex.transfers.abort();
    if (err instanceof StopRequested || (ex.stopRequested && !(err instanceof StepError))) {
      sink.system('stopped before the training started');
      await this.uploadLogs(ex).catch(() => undefined);
      return () => this.conclude(ex);
    }
    const e = err instanceof StepError ? err : new StepError('runner', (err as Error).message);
    sink.system(`${e.step} failed: ${e.message}`);
    if (ex.started && !ex.finishing) {
      // Outputs and logs are kept on failure too: stop what still runs, then collect.
      await this.stopContainers(ex);
      await this.finish(ex).catch(() => undefined);
    } else {
      await this.uploadLogs(ex).catch(() => undefined);
    }
    // On many hosts a rank that does not come up (its node lost, out of room after all, an image
    // pull that hangs) is the placement's bad luck more than the job's: the job is placed afresh
    // once, and fails with the reason the second time.
    const requeue =
      this.deps.engine.multiHost &&
      e.step === 'container start' &&
      !ex.stopRequested &&
      !this.deps.jobs.events(job.id).some((ev) => ev.type === EventType.requeued);
    return () => {
      const current = this.deps.jobs.getById(job.id)?.status;
      if (requeue && current === 'Initializing') {
        this.deps.jobs.setHosts(job.id, null);
        if (this.deps.jobs.transition(job.id, 'Initializing', 'Queuing')) {
          this.event(job, EventType.requeued, `${e.step} failed: ${e.message}; placing the job again (once)`);
          return;
        }
      }
      if (current === 'Initializing' || current === 'Running') {
        this.failOrRetry(job, current, `${e.step} failed: ${e.message}`, e.failureClass);
      } else if (current === 'Stopping') {
        this.endFailed(job, current, `${e.step} failed: ${e.message}`, e.failureClass);
      }
    };
  }

  private async cleanUp(ex: Execution): Promise<void> {
    for (const s of ex.sinks) s.flush();
    const { engine } = this.deps;
    for (const c of ex.containers) if (c) await this.removeEventually(`container ${c}`, () => engine.remove(c));
    const net = ex.network;
    if (net) await this.removeEventually(`network ${net}`, () => engine.removeNetwork(net));
    for (const [i, dir] of ex.workDirs.entries()) {
      // A lost host's folder is left to the node's owner: nothing there can be reached.
      if (dir && !ex.lost[i]) await this.removeEventually(`work folder ${dir}`, () => this.removeWorkDir(dir, ex.hosts[i] ?? null));
    }
  }

  private async removeWorkDir(dir: string, host: string | null): Promise<void> {
    const agent = onNode(this.deps.agent, host);
    await agent.run({ command: 'remove', input: { root: agent.agentPath(dir) } }, () => undefined);
  }

  /**
   * Removes now, or, when the engine is away (restarting, say), keeps trying in the background
   * so nothing is left behind once it is back; the next start's recovery sweeps whatever a
   * longer outage leaves.
   */
  private async removeEventually(what: string, remove: () => Promise<void>): Promise<void> {
    try {
      await remove();
      return;
    } catch (err) {
      this.deps.log?.error({ err }, `${what}: removal failed; retrying in the background`);
    }
    const deadline = Date.now() + REMOVAL_RETRY_MS;
    const retry = async (): Promise<void> => {
      for (let delay = 500; Date.now() < deadline; delay = Math.min(delay * 2, 5_000)) {
        await new Promise((r) => setTimeout(r, delay));
        try {
          await remove();
          return;
        } catch {
          // Still away; try again until the deadline.
        }
      }
      this.deps.log?.error({}, `${what}: could not be removed; the next start removes it`);
    };
    const p = retry().finally(() => this.retries.delete(p));
    this.retries.add(p);
  }

  /**
   * Output upload, then log upload; each failure is its own step error. Every node's outputs go
   * to the Training Output Path from the node itself, node 0 last, so the chief's files win a
   * name clash. The outputs live in the node's work folder, so they outlast the container: even
   * a container removed outside the console leaves them to upload.
   */
  private async finish(ex: Execution): Promise<void> {
    const { job } = ex;
    const out = parseObjectPath(job.spec.trainOutput);
    ex.finishing = true;
    // The last checkpoint, before the outputs: a retry resumes from it even when those fail.
    if (job.spec.checkpointPath) await this.uploadCheckpoints(ex, 'at the end');
    await step('output upload', async () => {
      let files = 0;
      let bytes = 0;
      const skipped: string[] = [];
      const refused: string[] = [];
      const lost: number[] = [];
      for (let i = ex.workDirs.length - 1; i >= 0; i--) {
        const dir = ex.workDirs[i];
        if (!dir) continue;
        if (ex.lost[i]) {
          lost.push(i);
          continue;
        }
        const progress = this.progressWriter(job.id, i);
        try {
          const r = await uploadFromNode(
            this.agentOf(ex, i),
            this.deps.store,
            `${dir}/${rel(OUTPUT_DIR)}`,
            out.bucket,
            out.prefix,
            progress.set,
          );
          files += r.files;
          bytes += r.bytes;
          skipped.push(...r.skipped);
          refused.push(...r.refused);
        } catch (err) {
          const node = job.nodeCount > 1 ? `node ${i}: ` : '';
          throw new StepError('output upload', `${node}${(err as Error).message}`);
        } finally {
          progress.flush();
        }
      }
      let msg = `outputs uploaded to ${job.spec.trainOutput}: ${plural(files, 'file')}, ${bytes} bytes`;
      if (job.nodeCount > 1) msg += ` from ${job.nodeCount} nodes`;
      if (skipped.length) msg += `; not uploaded (links or special files): ${skipped.join(', ')}`;
      if (refused.length) msg += `; not uploaded (the store refused the name): ${refused.map(shortName).join(', ')}`;
      if (lost.length) msg += `; not uploaded from ${lost.map((i) => `node ${i}`).join(', ')} (its host was lost)`;
      this.event(job, EventType.outputUpload, msg);
      ex.sinks[0]!.system(msg);
    });
    await this.uploadLogs(ex);
  }

  private async uploadLogs(ex: Execution): Promise<void> {
    const { job } = ex;
    if (!job.spec.logPath) return;
    const dest = parseObjectPath(job.spec.logPath);
    await step('log upload', async () => {
      const names: string[] = [];
      for (let i = 0; i < job.nodeCount; i++) {
        const name = `${job.name}-${job.version}-worker-${i}.log`;
        const sink = ex.sinks[i]!;
        sink.system(`uploading the log to ${job.spec.logPath}${name}`);
        sink.flush();
        await this.deps.store.upload(
          dest.bucket,
          `${dest.prefix}${name}`,
          Readable.from(this.deps.logs.text(job.id, i)),
          'text/plain; charset=utf-8',
        );
        names.push(name);
      }
      this.event(job, EventType.logUpload, `log uploaded to ${job.spec.logPath}${names.length === 1 ? names[0] : `: ${names.join(', ')}`}`);
    });
  }
}
