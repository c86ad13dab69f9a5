import { assertTransition } from './state-machine.js';
import type { CreateTrainingJobRequest, FailureClass, JobStatus, NodeTransfer } from '@tc/contracts';
import type { Db } from '../db/database.js';
import type { JobAttemptRecord, JobEventRecord, JobNodeRecord, JobRecord } from './job.js';
import { isTerminal } from '@tc/contracts';
import { formatVersion } from './version.js';
import { ConflictError } from '../errors.js';
import { listPage } from '../db/list-query.js';

interface JobRow {
  id: number;
  name: string;
  version_num: number;
  description: string | null;
  status: string;
  reason: string | null;
  failure_class: string | null;
  spec: string;
  pool_id: string;
  flavor_id: string;
  node_count: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  owner_id: number | null;
  image_id: string | null;
  image_digest: string | null;
  attempt: number;
  not_before: string | null;
}

function toRecord(r: JobRow): JobRecord {
  return {
    id: r.id,
    name: r.name,
    version: formatVersion(r.version_num),
    description: r.description,
    status: r.status as JobStatus,
    reason: r.reason,
    failureClass: r.failure_class as FailureClass | null,
    spec: JSON.parse(r.spec) as CreateTrainingJobRequest,
    poolId: r.pool_id,
    flavorId: r.flavor_id,
    nodeCount: r.node_count,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    ownerId: r.owner_id,
    imageId: r.image_id,
    imageDigest: r.image_digest,
    attempt: r.attempt,
    notBefore: r.not_before,
  };
}

export interface NewJob {
  name: string;
  description: string | null;
  spec: CreateTrainingJobRequest;
  poolId: string;
  flavorId: string;
  nodeCount: number;
  /** Node hostnames embed the version, which is only known inside the transaction. */
  hostnames: (version: string) => string[];
  createdAt: string;
  ownerId: number;
}

export interface JobFilter {
  /** Only this user's jobs; undefined: everyone's. */
  ownerId?: number;
  name?: string;
  status?: JobStatus;
  failureClass?: FailureClass;
  limit: number;
  offset: number;
}

/** A job name's latest version (in the filter's scope) and how many versions the name has there. */
export interface LatestJobRecord {
  job: JobRecord;
  versionCount: number;
}

/** A status change that happened; listeners (notifications, metering) react to these. */
export interface JobTransition {
  job: JobRecord;
  from: JobStatus;
  to: JobStatus;
  /** Set when a failed attempt goes back to the queue as the next one: the attempt that ended. */
  retried?: { attempt: number; startedAt: string | null; endedAt: string };
}

/** What a move back to the queue for a retry sets: when the next attempt may start. */
export interface RetryFields {
  notBefore: string;
}

export class JobRepository {
  private readonly listeners = new Set<(t: JobTransition) => void>();

  constructor(private readonly db: Db) {}

  /**
   * Calls `listener` on every status change, with the job as it is after the change, inside the
   * change's transaction: what the listener writes (the notification outbox, the budget's meter)
   * commits with the status or not at all, so a crash cannot keep one and lose the other. Each
   * listener runs in a savepoint of its own: one that throws has its own writes rolled back and
   * is otherwise ignored; it never undoes or blocks the change, nor another listener's writes.
   * Listeners must be synchronous (better-sqlite3 transactions cannot span an await).
   */
  onTransition(listener: (t: JobTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Inserts the job, Queuing, with the next version of its name (the scheduler starts it). The read of the highest version and the
   * insert run in one IMMEDIATE transaction, which takes SQLite's write lock first, so concurrent
   * creates of one name (in this process or another) serialize: no gap, no duplicate; the
   * UNIQUE (name, version_num) key is the last line of defence.
   */
  createWithNextVersion(job: NewJob): JobRecord {
    return this.createOnce(job, null, { anyName: true }).job;
  }

  /**
   * createWithNextVersion, once per idempotency key: when the key is already recorded, nothing
   * is inserted and the job it made is returned with its request hash. The lookup and the insert
   * share the transaction, so two concurrent requests with one key make one job. Keys are per
   * user. A name belongs to whoever made its first version: another user (unless `anyName`, an
   * admin) gets a ConflictError. `check` (the create hooks: budget, topic, dataset, saved name)
   * runs inside the transaction, under the write lock, so what it read cannot change before the
   * insert (a run metered by another process, a topic deleted); whatever it throws undoes all.
   */
  createOnce(
    job: NewJob,
    idem: { key: string; bodyHash: string } | null,
    opts: { anyName: boolean; check?: () => void },
  ): { job: JobRecord; created: boolean; bodyHash?: string } {
    const owner = String(job.ownerId);
    const tx = this.db.transaction((): { job: JobRecord; created: boolean; bodyHash?: string } => {
      if (idem) {
        const seen = this.db
          .prepare<[string, string], { job_id: number; body_hash: string }>(
            'SELECT job_id, body_hash FROM idempotency_keys WHERE owner = ? AND key = ?',
          )
          .get(owner, idem.key);
        if (seen) return { job: this.getById(seen.job_id)!, created: false, bodyHash: seen.body_hash };
      }
      const last = this.db
        .prepare<[string], { version_num: number; owner_id: number | null }>(
          'SELECT version_num, owner_id FROM jobs WHERE name = ? ORDER BY version_num DESC LIMIT 1',
        )
        .get(job.name);
      if (last && last.owner_id !== job.ownerId && !opts.anyName) {
        throw new ConflictError(`the job name ${job.name} is used by another user; choose another name`);
      }
      opts.check?.();
      const versionNum = (last?.version_num ?? 0) + 1;
      this.db.prepare('UPDATE jobs SET is_latest = 0 WHERE name = ? AND is_latest = 1').run(job.name);
      const info = this.db
        .prepare(
          `INSERT INTO jobs (name, version_num, description, status, spec, pool_id, flavor_id, node_count, created_at, owner_id, is_latest)
           VALUES (?, ?, ?, 'Queuing', ?, ?, ?, ?, ?, ?, 1)`,
        )
        .run(
          job.name,
          versionNum,
          job.description,
          JSON.stringify(job.spec),
          job.poolId,
          job.flavorId,
          job.nodeCount,
          job.createdAt,
          job.ownerId,
        );
      const id = Number(info.lastInsertRowid);
      const insertNode = this.db.prepare(`INSERT INTO job_nodes (job_id, idx, hostname, state) VALUES (?, ?, ?, 'pending')`);
      job.hostnames(formatVersion(versionNum)).forEach((h, i) => insertNode.run(id, i, h));
      if (idem) {
        this.db
          .prepare('INSERT INTO idempotency_keys (owner, key, body_hash, job_id, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(owner, idem.key, idem.bodyHash, id, job.createdAt);
      }
      return { job: this.getById(id)!, created: true };
    });
    return tx.immediate();
  }

  /** The job an idempotency key made, with the hash of the request that made it. */
  findByIdempotencyKey(ownerId: number, key: string): { job: JobRecord; bodyHash: string } | null {
    const row = this.db
      .prepare<[string, string], { job_id: number; body_hash: string }>(
        'SELECT job_id, body_hash FROM idempotency_keys WHERE owner = ? AND key = ?',
      )
      .get(String(ownerId), key);
    const job = row ? this.getById(row.job_id) : null;
    return row && job ? { job, bodyHash: row.body_hash } : null;
  }

  getById(id: number): JobRecord | null {
    const row = this.db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? toRecord(row) : null;
  }

  get(name: string, versionNum: number): JobRecord | null {
    const row = this.db.prepare<[string, number], JobRow>('SELECT * FROM jobs WHERE name = ? AND version_num = ?').get(name, versionNum);
    return row ? toRecord(row) : null;
  }

  list(filter: JobFilter): { items: JobRecord[]; total: number } {
    const { rows, total } = listPage<JobRow>(this.db, {
      table: 'jobs',
      filter,
      orderBy: 'id DESC',
      limit: filter.limit,
      offset: filter.offset,
    });
    return { items: rows.map(toRecord), total };
  }

  /**
   * One row per job name: its highest version among the rows the owner and name filters keep,
   * newest first. The status filter applies to that latest version, so a name whose latest
   * version succeeded is not listed under Failed for an older failed one.
   */
  listLatest(filter: JobFilter): { items: LatestJobRecord[]; total: number } {
    // is_latest is kept by create and delete, so this is the plain list's index range; the
    // version counts are one lookup per row shown (UNIQUE(name, version_num)'s index).
    const { rows, total } = listPage<JobRow>(this.db, {
      table: 'jobs',
      filter: { ...filter, latestOnly: true },
      orderBy: 'id DESC',
      limit: filter.limit,
      offset: filter.offset,
    });
    const count = this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM jobs WHERE name = ?');
    return { items: rows.map((r) => ({ job: toRecord(r), versionCount: count.get(r.name)!.n })), total };
  }

  listByStatus(statuses: readonly JobStatus[]): JobRecord[] {
    const marks = statuses.map(() => '?').join(',');
    return this.db
      .prepare<unknown[], JobRow>(`SELECT * FROM jobs WHERE status IN (${marks}) ORDER BY id`)
      .all(...statuses)
      .map(toRecord);
  }

  /**
   * Compare-and-set: moves the job only if it is still in `from`; returns whether it moved. Every
   * status change goes through here, so the state machine is enforced in this one place: a move
   * it does not allow throws InvalidTransitionError (a defect in the caller, not a race).
   */
  transition(
    id: number,
    from: JobStatus,
    to: JobStatus,
    fields: {
      reason?: string | null;
      failureClass?: FailureClass;
      startedAt?: string;
      endedAt?: string;
      /** A failed attempt retried (to Queuing): its reason and class go to its attempt row, the job starts the next one. */
      retry?: RetryFields;
    } = {},
  ): boolean {
    assertTransition(from, to);
    return this.db.transaction(() => {
      const before = fields.retry
        ? this.db
            .prepare<[number], { attempt: number; started_at: string | null }>('SELECT attempt, started_at FROM jobs WHERE id = ?')
            .get(id)
        : undefined;
      const info = fields.retry
        ? this.db
            .prepare(
              `UPDATE jobs SET status = ?, attempt = attempt + 1, not_before = ?, reason = NULL, failure_class = NULL, started_at = NULL
               WHERE id = ? AND status = ?`,
            )
            .run(to, fields.retry.notBefore, id, from)
        : this.db
            .prepare(
              `UPDATE jobs SET status = ?,
                 reason = COALESCE(?, reason),
                 failure_class = COALESCE(?, failure_class),
                 started_at = COALESCE(?, started_at),
                 ended_at = COALESCE(?, ended_at)
               WHERE id = ? AND status = ?`,
            )
            .run(to, fields.reason ?? null, fields.failureClass ?? null, fields.startedAt ?? null, fields.endedAt ?? null, id, from);
      if (info.changes !== 1) return false;
      const retried = before ? this.recordAttemptEnd(id, before, fields) : undefined;
      if (from === 'Queuing' && to === 'Initializing') this.beginAttempt(id);
      else if (isTerminal(to)) this.endAttempt(id);
      if (this.listeners.size) {
        const job = this.getById(id)!;
        for (const l of this.listeners) {
          try {
            // Nested, so a savepoint: rolled back alone when the listener throws.
            this.db.transaction(() => l(retried ? { job, from, to, retried } : { job, from, to }))();
          } catch {
            // Deliberately ignored: see onTransition.
          }
        }
      }
      return true;
    })();
  }

  /** The attempt leaving the queue: its row, with where each node's log goes on from. */
  private beginAttempt(id: number): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO job_attempts (job_id, attempt, started_at, first_seqs)
         SELECT j.id, j.attempt, ?,
           (SELECT json_group_array(s) FROM (
              SELECT (SELECT COALESCE(MAX(l.seq), 0) + 1 FROM log_lines l WHERE l.job_id = n.job_id AND l.node = n.idx) AS s
              FROM job_nodes n WHERE n.job_id = j.id ORDER BY n.idx))
         FROM jobs j WHERE j.id = ?`,
      )
      .run(new Date().toISOString(), id);
    this.db.prepare('UPDATE jobs SET not_before = NULL WHERE id = ?').run(id);
  }

  /** The job has ended: so has its current attempt, the same way. */
  private endAttempt(id: number): void {
    this.db
      .prepare(
        `UPDATE job_attempts SET ended_at = j.ended_at, status = j.status, reason = j.reason, failure_class = j.failure_class
         FROM jobs j WHERE j.id = job_attempts.job_id AND job_attempts.job_id = ? AND job_attempts.attempt = j.attempt`,
      )
      .run(id);
  }

  private recordAttemptEnd(
    id: number,
    before: { attempt: number; started_at: string | null },
    fields: { reason?: string | null; failureClass?: FailureClass },
  ): NonNullable<JobTransition['retried']> {
    const endedAt = new Date().toISOString();
    this.db
      .prepare(
        `UPDATE job_attempts SET ended_at = ?, status = 'Running failed', reason = ?, failure_class = ? WHERE job_id = ? AND attempt = ?`,
      )
      .run(endedAt, fields.reason ?? null, fields.failureClass ?? null, id, before.attempt);
    return { attempt: before.attempt, startedAt: before.started_at, endedAt };
  }

  attempts(jobId: number): JobAttemptRecord[] {
    return this.db
      .prepare<[number], Omit<JobAttemptRecord, 'firstSeqs'> & { firstSeqs: string }>(
        `SELECT attempt, started_at AS startedAt, ended_at AS endedAt, status, reason, failure_class AS failureClass, first_seqs AS firstSeqs
         FROM job_attempts WHERE job_id = ? ORDER BY attempt`,
      )
      .all(jobId)
      .map((r) => ({ ...r, firstSeqs: JSON.parse(r.firstSeqs) as number[] }));
  }

  /** Each job's image, as named in its spec and (once checked) the ID it ran: what the Images page counts. */
  imageUse(): { imageId: string | null; ref: string }[] {
    return this.db
      .prepare("SELECT image_id AS imageId, COALESCE(json_extract(spec, '$.algorithm.imagePath'), '') AS ref FROM jobs")
      .all() as { imageId: string | null; ref: string }[];
  }

  /** The image the job's containers are made from: the ID its check passed at. */
  setImage(id: number, imageId: string, imageDigest: string | null): void {
    this.db.prepare('UPDATE jobs SET image_id = ?, image_digest = ? WHERE id = ?').run(imageId, imageDigest, id);
  }

  /** Deletes the job; when it was its name's latest version, the next highest becomes the latest. */
  delete(id: number): void {
    this.db.transaction(() => {
      const gone = this.db.prepare<[number], { name: string; is_latest: number }>('SELECT name, is_latest FROM jobs WHERE id = ?').get(id);
      this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id);
      if (gone?.is_latest) {
        this.db
          .prepare('UPDATE jobs SET is_latest = 1 WHERE name = ? AND version_num = (SELECT MAX(version_num) FROM jobs WHERE name = ?)')
          .run(gone.name, gone.name);
      }
    })();
  }

  addEvent(jobId: number, type: string, message: string, at = new Date().toISOString()): void {
    this.db
      .prepare(
        'INSERT INTO job_events (job_id, at, type, message, attempt) VALUES (?, ?, ?, ?, COALESCE((SELECT attempt FROM jobs WHERE id = ?), 1))',
      )
      .run(jobId, at, type, message, jobId);
  }

  events(jobId: number): JobEventRecord[] {
    return this.db
      .prepare<[number], JobEventRecord>('SELECT at, type, message, attempt FROM job_events WHERE job_id = ? ORDER BY id')
      .all(jobId);
  }

  nodes(jobId: number): JobNodeRecord[] {
    return this.db
      .prepare<[number], JobNodeRecord>(
        `SELECT idx AS "index", hostname, container_id AS containerId, state, exit_code AS exitCode, transfer, work_dir AS workDir,
           host_id AS hostId, host_name AS hostName
         FROM job_nodes WHERE job_id = ? ORDER BY idx`,
      )
      .all(jobId);
  }

  updateNode(jobId: number, index: number, fields: { containerId?: string; state?: string; exitCode?: number; workDir?: string }): void {
    this.db
      .prepare(
        `UPDATE job_nodes SET container_id = COALESCE(?, container_id), state = COALESCE(?, state),
           exit_code = COALESCE(?, exit_code), work_dir = COALESCE(?, work_dir)
         WHERE job_id = ? AND idx = ?`,
      )
      .run(fields.containerId ?? null, fields.state ?? null, fields.exitCode ?? null, fields.workDir ?? null, jobId, index);
  }

  /**
   * The hosts a multi-host placement chose, rank by rank (null clears them: a job sent back to
   * the queue is placed afresh).
   */
  setHosts(jobId: number, hosts: { id: string; name: string }[] | null): void {
    const update = this.db.prepare('UPDATE job_nodes SET host_id = ?, host_name = ? WHERE job_id = ? AND idx = ?');
    this.db.transaction(() => {
      if (hosts === null) this.db.prepare('UPDATE job_nodes SET host_id = NULL, host_name = NULL WHERE job_id = ?').run(jobId);
      else hosts.forEach((h, i) => update.run(h.id, h.name, jobId, i));
    })();
  }

  /** A node's transfer of one step (download, upload) as it stands; the other step's is kept. */
  setTransfer(jobId: number, index: number, t: NodeTransfer): void {
    this.db
      .prepare(`UPDATE job_nodes SET transfer = json_set(COALESCE(transfer, '{}'), '$.' || ?, json(?)) WHERE job_id = ? AND idx = ?`)
      .run(t.step, JSON.stringify(t), jobId, index);
  }
}
