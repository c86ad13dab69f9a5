import { parseObjectPath, type JobStatus } from '@tc/contracts';
import { Readable } from 'node:stream';
import type { ContainerEngine } from './container-engine.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { JobRepository } from '../db/job-repository.js';
import type { LogRepository } from '../db/log-repository.js';
import type { ImageCheckRepository } from '../db/image-check-repository.js';
import type { ResourcePools } from './resource-pools.js';
import { EventType, type JobRecord } from '../jobs/job.js';
import { checkImage } from './image-check.js';
import { skeletonDirs, stagingTar, type StagingReport } from './staging.js';
import { uploadOutputs } from './output-upload.js';
import { nodeEnvironment, nodeHostnames } from './job-env.js';
import { lastSegment, OUTPUT_DIR } from './paths.js';
import { LogSink } from './log-sink.js';

export const LABEL = {
  managed: 'tc.managed',
  jobId: 'tc.job-id',
  jobName: 'tc.job-name',
  jobVersion: 'tc.job-version',
  node: 'tc.node',
} as const;

const PIDS_LIMIT = 1024;
const GiB = 1024 ** 3;

export interface RunnerDeps {
  jobs: JobRepository;
  logs: LogRepository;
  verdicts: ImageCheckRepository;
  engine: ContainerEngine;
  store: ObjectStore;
  pools: ResourcePools;
  /** Extra labels on every container (tests mark theirs for cleanup). */
  extraLabels?: Record<string, string>;
  log?: { error(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void };
}

/** A failure attributed to the step it happened in; the job's reason names both. */
class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError) throw err;
    throw new StepError(name, (err as Error).message);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeStaging(what: string, r: StagingReport): string {
  let m = `${what}: ${plural(r.files, 'file')}, ${r.bytes} bytes`;
  if (r.skippedLong.length)
    m += `; skipped ${r.skippedLong.length} with names over 255 characters: ${r.skippedLong.map((n) => `${n.slice(0, 40)}…`).join(', ')}`;
  if (r.skippedUnsafe.length) m += `; refused ${r.skippedUnsafe.length} unsafe keys: ${r.skippedUnsafe.join(', ')}`;
  return m;
}

/**
 * Runs jobs on the engine: image check → create → stage code and data → start → capture logs →
 * upload outputs and logs → remove. The job's row is the source of truth; each step records an
 * event, and any failure ends the job in "Running failed" with the step and the error.
 */
export class JobRunner {
  private readonly running = new Map<number, Promise<void>>();

  constructor(private readonly deps: RunnerDeps) {}

  /** Starts the job in the background; the promise is kept so shutdown and tests can wait. */
  start(jobId: number): void {
    const p = this.run(jobId)
      .catch((err: unknown) => this.deps.log?.error({ err, jobId }, 'job runner crashed'))
      .finally(() => this.running.delete(jobId));
    this.running.set(jobId, p);
  }

  /** Resolves when every job started so far has ended. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /**
   * Jobs a previous process left unfinished. Picking up their containers where they were is the
   * engine issue's reconciliation; until then they end as failed, with the reason, and their
   * containers are removed so nothing runs unowned.
   */
  async recoverAfterRestart(): Promise<void> {
    const { jobs, engine } = this.deps;
    const open = jobs.listByStatus(['Initializing', 'Queuing', 'Running', 'Stopping']);
    for (const job of open) {
      this.fail(job, job.status, 'recovery', `the server restarted while the job was ${job.status}; the job was not resumed`);
    }
    for (const c of await engine.listManaged({ [LABEL.managed]: '1' })) {
      const id = Number(c.labels[LABEL.jobId]);
      const job = jobs.getById(id);
      if (!job || !this.running.has(id)) await engine.remove(c.id).catch(() => undefined);
    }
  }

  private event(job: JobRecord, type: string, message: string): void {
    this.deps.jobs.addEvent(job.id, type, message);
  }

  private fail(job: JobRecord, from: JobStatus, stepName: string, message: string): void {
    const reason = `${stepName} failed: ${message}`;
    if (this.deps.jobs.transition(job.id, from, 'Running failed', { reason, endedAt: new Date().toISOString() })) {
      this.event(job, EventType.failed, reason);
    }
  }

  private async run(jobId: number): Promise<void> {
    const { jobs, engine, store, pools } = this.deps;
    const job = jobs.getById(jobId);
    if (!job || job.status !== 'Initializing') return;
    const sink = new LogSink(this.deps.logs, job.id, 0);
    const containers: string[] = [];
    let status: JobStatus = 'Initializing';
    let started = false;
    let finishing = false;
    try {
      const flavor = pools.flavor(job.flavorId);
      if (!flavor) throw new StepError('scheduling', `flavor ${job.flavorId} is no longer configured`);

      const check = await step('image check', () => checkImage(job.spec.algorithm.imagePath, { engine, verdicts: this.deps.verdicts }));
      const checkMsg = check.passed
        ? `image ${job.spec.algorithm.imagePath} passed the check (default user UID 1101)${check.cached ? ', verdict reused' : ''}`
        : `image ${job.spec.algorithm.imagePath} failed the check: ${check.reason}`;
      this.event(job, EventType.imageCheck, checkMsg);
      sink.system(checkMsg);
      if (!check.passed) throw new StepError('image check', check.reason ?? 'failed');

      const hostnames = nodeHostnames(job.name, job.version, job.nodeCount);
      const code = parseObjectPath(job.spec.algorithm.codeDir);
      const dataUrl = job.spec.data.source === 'path' ? job.spec.data.path : '';
      if (job.spec.data.source !== 'path') throw new StepError('data download', 'datasets are not supported yet; use a data path');
      const data = parseObjectPath(job.spec.data.path);
      const codeFolder = lastSegment(code.prefix);

      const id = await step('container creation', () =>
        engine.createContainer({
          name: `tc-${hostnames[0]}-${job.id}`,
          image: job.spec.algorithm.imagePath,
          cmd: ['/bin/sh', '-c', job.spec.algorithm.bootCommand],
          env: nodeEnvironment({ spec: job.spec, version: job.version, index: 0, hostnames, dataUrl }),
          labels: {
            ...this.deps.extraLabels,
            [LABEL.managed]: '1',
            [LABEL.jobId]: String(job.id),
            [LABEL.jobName]: job.name,
            [LABEL.jobVersion]: job.version,
            [LABEL.node]: '0',
          },
          hostname: hostnames[0]!,
          nanoCpus: Math.round(flavor.vcpus * 1e9),
          memoryBytes: Math.round(flavor.memoryGiB * GiB),
          pidsLimit: PIDS_LIMIT,
          networkMode: 'none',
        }),
      );
      containers.push(id);
      jobs.updateNode(job.id, 0, { containerId: id, state: 'created' });

      await step('code download', async () => {
        const s = stagingTar(
          store,
          { bucket: code.bucket, prefix: code.prefix, dest: `home/work/user-job-dir/${codeFolder}` },
          skeletonDirs(codeFolder),
        );
        await engine.putArchive(id, '/', s.tar);
        const r = await s.report;
        const msg = describeStaging(`code downloaded to /home/work/user-job-dir/${codeFolder}/`, r);
        this.event(job, EventType.codeDownload, msg);
        sink.system(msg);
      });

      await step('data download', async () => {
        const s = stagingTar(store, { bucket: data.bucket, prefix: data.prefix, dest: 'home/work/data' });
        await engine.putArchive(id, '/', s.tar);
        const r = await s.report;
        const msg = describeStaging('data downloaded to /home/work/data/', r);
        this.event(job, EventType.dataDownload, msg);
        sink.system(msg);
        for (const n of r.skippedLong) sink.system(`skipped data file with a name over 255 characters: ${n}`);
        const total = r.files + r.skippedLong.length + r.skippedUnsafe.length;
        if (total > 0 && r.files === 0) {
          throw new Error(
            `every data file was skipped (${plural(r.skippedLong.length, 'name')} over 255 characters, ${r.skippedUnsafe.length} unsafe); nothing left to train on`,
          );
        }
      });

      await step('container start', () => engine.start(id));
      started = true;
      const startedAt = new Date().toISOString();
      if (!jobs.transition(job.id, 'Initializing', 'Running', { startedAt })) {
        throw new StepError('container start', 'the job was changed while starting');
      }
      status = 'Running';
      jobs.updateNode(job.id, 0, { state: 'running' });
      this.event(job, EventType.nodeStarted, `node 0 (${hostnames[0]}) started`);

      const logsDone = engine.followLogs(id, (l) => sink.add(l.stream, l.text, l.at));
      const exit = await step('running', () => engine.wait(id));
      await logsDone.catch((err: unknown) => sink.system(`log capture ended early: ${(err as Error).message}`));
      jobs.updateNode(job.id, 0, { state: 'exited', exitCode: exit.exitCode });
      this.event(job, EventType.nodeExited, `node 0 exited with code ${exit.exitCode}${exit.oomKilled ? ' (killed: out of memory)' : ''}`);

      finishing = true;
      await this.finish(job, id, sink);
      if (exit.exitCode !== 0) {
        const why = exit.oomKilled
          ? `boot command was killed for exceeding the flavor's memory (${flavor.memoryGiB} GiB), exit code ${exit.exitCode}`
          : `boot command exited with code ${exit.exitCode}`;
        throw new StepError('training', why);
      }
      if (jobs.transition(job.id, 'Running', 'Successful', { endedAt: new Date().toISOString() })) {
        this.event(job, EventType.status, 'job succeeded');
      }
    } catch (err) {
      const e = err instanceof StepError ? err : new StepError('runner', (err as Error).message);
      sink.system(`${e.step} failed: ${e.message}`);
      // Outputs and logs are kept on failure too, when the container got far enough to have them.
      if (started && !finishing && containers[0]) await this.finish(job, containers[0], sink).catch(() => undefined);
      else if (!started) await this.uploadLog(job, sink).catch(() => undefined);
      this.fail(job, status, e.step, e.message);
    } finally {
      sink.flush();
      for (const c of containers) await engine.remove(c).catch((err: unknown) => this.deps.log?.error({ err }, 'container removal failed'));
    }
  }

  /** Output upload, then log upload; each failure is its own step error. */
  private async finish(job: JobRecord, containerId: string, sink: LogSink): Promise<void> {
    const out = parseObjectPath(job.spec.trainOutput);
    await step('output upload', async () => {
      const archive = await this.deps.engine.getArchive(containerId, OUTPUT_DIR);
      const r = await uploadOutputs(archive, this.deps.store, out.bucket, out.prefix);
      let msg = `outputs uploaded to ${job.spec.trainOutput}: ${plural(r.files, 'file')}, ${r.bytes} bytes`;
      if (r.skipped.length) msg += `; not uploaded (links or special files): ${r.skipped.join(', ')}`;
      this.event(job, EventType.outputUpload, msg);
      sink.system(msg);
    });
    await this.uploadLog(job, sink);
  }

  private async uploadLog(job: JobRecord, sink: LogSink): Promise<void> {
    if (!job.spec.logPath) return;
    const dest = parseObjectPath(job.spec.logPath);
    const key = `${dest.prefix}${job.name}-${job.version}-worker-0.log`;
    await step('log upload', async () => {
      sink.system(`uploading the log to ${job.spec.logPath}${key.slice(dest.prefix.length)}`);
      sink.flush();
      const body = Readable.from(this.deps.logs.text(job.id, 0));
      await this.deps.store.upload(dest.bucket, key, body, 'text/plain; charset=utf-8');
      this.event(job, EventType.logUpload, `log uploaded to ${job.spec.logPath}${key.slice(dest.prefix.length)}`);
    });
  }
}
