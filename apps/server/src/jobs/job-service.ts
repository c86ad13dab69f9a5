import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  isTerminal,
  type CreateTrainingJobRequest,
  type ListTrainingJobsQuery,
  type LogPage,
  type LogsQuery,
  type LogStreamQuery,
  type TrainingJob,
  type TrainingJobList,
} from '@tc/contracts';
import type { JobRepository } from './job-repository.js';
import type { LogRepository } from '../engine/log-repository.js';
import type { LogStreams } from './log-streams.js';
import type { ResourcePools } from '../engine/resource-pools.js';
import type { Scheduler } from '../engine/scheduler.js';
import type { ObjectStore } from '../storage/object-store.js';
import { nodeHostnames } from '../engine/job-env.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { checkStoragePaths } from './storage-checks.js';
import { EventType, type JobRecord } from './job.js';
import { toSummary, toTrainingJob } from './job-view.js';
import { parseVersion } from './version.js';
import { canAccess, ownerScope, type Actor } from '../accounts/actor.js';

export interface JobServiceDeps {
  jobs: JobRepository;
  logs: Pick<LogRepository, 'page' | 'text'>;
  /** Live logs as server-sent events; without it the stream route answers 500. */
  streams?: Pick<LogStreams, 'open'>;
  pools: Pick<ResourcePools, 'place'>;
  scheduler: Pick<Scheduler, 'admit' | 'position' | 'positions' | 'waiting'>;
  runner: { stop(jobId: number): Promise<boolean> };
  store: ObjectStore;
  /** The console's region: buckets elsewhere are refused at submit. */
  region: string;
  /** Other modules' part in a create (topic exists, saving the parameters): `check` may refuse it before anything is stored. */
  createHooks?: readonly CreateHook[];
}

export interface CreateHook {
  /** Runs inside the create's write transaction (JobRepository.createOnce), so it must be synchronous. */
  check?(req: CreateTrainingJobRequest, actor: Actor): void;
  created?(job: JobRecord, actor: Actor): void;
}

/** Training-job use cases; routes stay one-liners over these. Users reach their own jobs; admins all. */
export class JobService {
  constructor(private readonly d: JobServiceDeps) {}

  /**
   * Creates the next version of the job. With an idempotency key, a repeat of the same request
   * returns the job the first one made and creates nothing; the same key with another request is
   * a 409.
   */
  async create(actor: Actor, req: CreateTrainingJobRequest, idempotencyKey?: string): Promise<TrainingJob> {
    const idem = idempotencyKey ? { key: idempotencyKey, bodyHash: createHash('sha256').update(JSON.stringify(req)).digest('hex') } : null;
    if (idem) {
      const seen = this.d.jobs.findByIdempotencyKey(actor.userId, idem.key);
      if (seen) return this.replay(seen, idem.bodyHash);
    }
    const placement = this.d.pools.place(req.resources);
    const checked = await checkStoragePaths(req, this.d.store, this.d.region);
    if (checked.errors.length) throw new InvalidInputError(checked.errors);
    const made = this.d.jobs.createOnce(
      {
        name: req.name,
        description: req.description ?? null,
        spec: {
          ...req,
          env: req.env ?? [],
          resources: { pool: placement.pool, type: placement.flavor.type, flavor: placement.flavor.id, nodes: placement.nodes },
        },
        poolId: placement.pool,
        flavorId: placement.flavor.id,
        nodeCount: placement.nodes,
        hostnames: (version) => nodeHostnames(req.name, version, placement.nodes),
        createdAt: new Date().toISOString(),
        ownerId: actor.userId,
      },
      idem,
      // The checks and the insert are one transaction: two creates cannot both pass a check
      // that only one of them should (the budget, a saved name), whichever process makes them.
      { anyName: actor.admin, check: () => this.d.createHooks?.forEach((h) => h.check?.(req, actor)) },
    );
    // A concurrent request with the same key got there first.
    if (!made.created) return this.replay({ job: made.job, bodyHash: made.bodyHash ?? '' }, idem?.bodyHash ?? '');
    const job = made.job;
    this.d.jobs.addEvent(
      job.id,
      EventType.created,
      `job ${job.name} ${job.version} created on ${placement.pool} with flavor ${placement.flavor.id} × ${placement.nodes}`,
    );
    for (const w of checked.warnings) this.d.jobs.addEvent(job.id, EventType.warning, w);
    for (const h of this.d.createHooks ?? []) h.created?.(job, actor);
    this.d.scheduler.admit(job);
    return this.view(this.d.jobs.getById(job.id)!);
  }

  private replay(seen: { job: JobRecord; bodyHash: string }, bodyHash: string): TrainingJob {
    if (seen.bodyHash !== bodyHash) {
      throw new ConflictError('this Idempotency-Key was already used with a different request; use a new key for a new job');
    }
    return this.view(seen.job);
  }

  /** Stops the job (see JobRunner.stop); a job that has already ended is a 409. */
  async stop(actor: Actor, name: string, version: string): Promise<TrainingJob> {
    const job = this.find(actor, name, version);
    if (!(await this.d.runner.stop(job.id))) {
      throw new ConflictError(`training job ${name} ${version} has already ended (${this.d.jobs.getById(job.id)?.status ?? job.status})`);
    }
    return this.view(this.d.jobs.getById(job.id)!);
  }

  /** Deletes a job that has ended, with its events and logs; its stored outputs stay. */
  delete(actor: Actor, name: string, version: string): void {
    const job = this.find(actor, name, version);
    if (!isTerminal(job.status)) {
      throw new ConflictError(`training job ${name} ${version} is ${job.status}; stop it before deleting it`);
    }
    this.d.jobs.delete(job.id);
  }

  get(actor: Actor, name: string, version: string): TrainingJob {
    const job = this.find(actor, name, version);
    return { ...this.view(job), waiting: this.d.scheduler.waiting([job], actor).get(job.id) ?? null };
  }

  list(actor: Actor, q: ListTrainingJobsQuery): TrainingJobList {
    const filter = {
      ownerId: ownerScope(actor),
      name: q.name,
      status: q.status,
      failureClass: q.failureClass,
      limit: q.pageSize,
      offset: (q.page - 1) * q.pageSize,
    };
    if (q.latest === 'true') {
      const latest = this.d.jobs.listLatest(filter);
      const queued = latest.items.some(({ job }) => job.status === 'Queuing') ? this.d.scheduler.positions() : new Map<number, number>();
      const waits = this.d.scheduler.waiting(
        latest.items.map((i) => i.job),
        actor,
      );
      return {
        items: latest.items.map(({ job, versionCount }) => ({
          ...toSummary(job, queued.get(job.id) ?? null),
          waitingSummary: waits.get(job.id)?.summary ?? null,
          versionCount,
        })),
        total: latest.total,
      };
    }
    const { items, total } = this.d.jobs.list(filter);
    const positions = items.some((j) => j.status === 'Queuing') ? this.d.scheduler.positions() : new Map<number, number>();
    const waits = this.d.scheduler.waiting(items, actor);
    return {
      items: items.map((j) => ({ ...toSummary(j, positions.get(j.id) ?? null), waitingSummary: waits.get(j.id)?.summary ?? null })),
      total,
    };
  }

  logs(actor: Actor, name: string, version: string, q: LogsQuery): LogPage {
    const job = this.find(actor, name, version);
    this.node(job, q.node);
    // An attempt's lines are a seq range: from its first line to the next attempt's.
    const range = this.attemptRange(job, q.node, q.attempt);
    const after = Math.max(this.cursor(q.cursor), range.from - 1);
    let rows = this.d.logs.page(job.id, q.node, after, q.limit);
    const cut = range.until === null ? -1 : rows.findIndex((r) => r.seq >= range.until!);
    if (cut >= 0) rows = rows.slice(0, cut);
    const next = rows.length ? rows[rows.length - 1]!.seq : after;
    // Complete once the job (or the attempt asked for) has ended and this page reached its last line.
    const complete = (cut >= 0 || isTerminal(job.status)) && rows.length < q.limit;
    return { lines: rows, nextCursor: String(next), complete };
  }

  /** The seqs of one node's lines in the attempt (default: the latest): [from, until), until null for the last one. */
  private attemptRange(job: JobRecord, node: number, attempt: number | undefined): { from: number; until: number | null } {
    const attempts = this.d.jobs.attempts(job.id);
    if (attempt === undefined) return { from: attempts.at(-1)?.firstSeqs[node] ?? 1, until: null };
    const i = attempts.findIndex((a) => a.attempt === attempt);
    if (i < 0) {
      throw new InvalidInputError([
        { path: 'attempt', message: `attempt must be one this job has run (${attempts.length ? `1 to ${attempts.length}` : 'none yet'})` },
      ]);
    }
    return { from: attempts[i]!.firstSeqs[node] ?? 1, until: attempts[i + 1]?.firstSeqs[node] ?? null };
  }

  /**
   * One node's log as server-sent events from the cursor on (see LogStreams). A reconnecting
   * EventSource sends the id of the last event it got as Last-Event-ID: that is the cursor then.
   */
  logStream(actor: Actor, name: string, version: string, q: LogStreamQuery, lastEventId?: string): Readable {
    const job = this.find(actor, name, version);
    this.node(job, q.node);
    const after = this.cursor(lastEventId ? lastEventId : q.cursor);
    if (!this.d.streams) throw new Error('live log streams are not configured');
    return this.d.streams.open(actor.userId, job.id, q.node, after);
  }

  /** The whole log of one node as text, streamed page by page. */
  logText(actor: Actor, name: string, version: string, node: number, attempt?: number): { filename: string; body: AsyncGenerator<string> } {
    const job = this.find(actor, name, version);
    this.node(job, node);
    if (attempt === undefined) return { filename: `${job.name}-${job.version}-worker-${node}.log`, body: this.d.logs.text(job.id, node) };
    // One attempt's lines only; without `attempt`, the whole log (every attempt) as before.
    const range = this.attemptRange(job, node, attempt);
    return {
      filename: `${job.name}-${job.version}-worker-${node}-attempt-${attempt}.log`,
      body: this.d.logs.text(job.id, node, 2000, range),
    };
  }

  /** Another user's job is as absent as one that never existed. */
  private find(actor: Actor, name: string, version: string): JobRecord {
    const n = parseVersion(version);
    const job = n === null ? null : this.d.jobs.get(name, n);
    if (!job || !canAccess(actor, job.ownerId)) throw new NotFoundError(`training job ${name} ${version} does not exist`);
    return job;
  }

  private node(job: JobRecord, node: number): void {
    if (node >= job.nodeCount) {
      throw new InvalidInputError([{ path: 'node', message: `node must be between 0 and ${job.nodeCount - 1} for this job` }]);
    }
  }

  private cursor(c: string | undefined): number {
    if (c === undefined || c === '') return 0;
    if (!/^\d{1,15}$/.test(c)) throw new InvalidInputError([{ path: 'cursor', message: 'cursor must be a value returned as nextCursor' }]);
    return Number(c);
  }

  private view(job: JobRecord): TrainingJob {
    return toTrainingJob(
      job,
      this.d.scheduler.position(job),
      this.d.jobs.nodes(job.id),
      this.d.jobs.events(job.id),
      this.d.jobs.attempts(job.id),
    );
  }
}
