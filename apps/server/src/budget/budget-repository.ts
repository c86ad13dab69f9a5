import type { JobStatus } from '@tc/contracts';
import type { Db } from '../db/database.js';
import { formatVersion } from '../jobs/version.js';

/** One job run as metered: the flavor it ran with and when it ran. */
export interface UsageRun {
  jobId: number;
  jobCreatedAt: string;
  /** Each attempt of a retried job is a run of its own; 1 when absent. */
  attempt?: number;
  name: string;
  versionNum: number;
  poolId: string;
  flavorId: string;
  vcpus: number;
  gpus: number;
  nodes: number;
  startedAt: string;
  endedAt: string | null;
}

/** A job that has started but whose run is not recorded (it ran before metering existed, or a listener missed it). */
export interface UnrecordedRun {
  jobId: number;
  jobCreatedAt: string;
  attempt: number;
  name: string;
  versionNum: number;
  poolId: string;
  flavorId: string;
  nodes: number;
  startedAt: string;
  endedAt: string | null;
}

export interface MeteredRun {
  name: string;
  version: string;
  status: JobStatus | null;
  pool: string;
  flavor: string;
  vcpus: number;
  gpus: number;
  nodes: number;
  startedAt: string;
  endedAt: string | null;
  hours: number;
  coreHours: number;
}

interface MeteredRow {
  name: string;
  version_num: number;
  status: string | null;
  pool_id: string;
  flavor_id: string;
  vcpus: number;
  gpus: number;
  nodes: number;
  started_at: string;
  ended_at: string | null;
  hours: number;
  core_hours: number;
}

/**
 * Hours of a run, to its end or to @now while it runs; never negative (clock skew). julianday's
 * float is off by some microseconds, so the difference is rounded to the milliseconds the
 * stamps hold.
 */
const HOURS = `MAX(0, ROUND((julianday(COALESCE(u.ended_at, @now)) - julianday(u.started_at)) * 86400000)) / 3600000.0`;
const CORE_HOURS = `${HOURS} * u.nodes * (u.vcpus + u.gpus * @weight)`;
const METERED = `
  SELECT u.name, u.version_num, j.status, u.pool_id, u.flavor_id, u.vcpus, u.gpus, u.nodes, u.started_at, u.ended_at,
         ${HOURS} AS hours, ${CORE_HOURS} AS core_hours
  FROM job_usage u LEFT JOIN jobs j ON j.id = u.job_id AND j.created_at = u.job_created_at`;

function toRun(r: MeteredRow): MeteredRun {
  return {
    name: r.name,
    version: formatVersion(r.version_num),
    status: r.status as JobStatus | null,
    pool: r.pool_id,
    flavor: r.flavor_id,
    vcpus: r.vcpus,
    gpus: r.gpus,
    nodes: r.nodes,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    hours: r.hours,
    coreHours: r.core_hours,
  };
}

/** Job runs for the budget, kept apart from `jobs` so deleting a job does not refund it. */
export class BudgetRepository {
  constructor(private readonly db: Db) {}

  /** Records a run, or its end when it is already recorded; an end once set stays. */
  record(u: UsageRun): void {
    this.db
      .prepare(
        `INSERT INTO job_usage (job_id, job_created_at, attempt, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at, ended_at)
         VALUES (@jobId, @jobCreatedAt, @attempt, @name, @versionNum, @poolId, @flavorId, @vcpus, @gpus, @nodes, @startedAt, @endedAt)
         ON CONFLICT (job_id, job_created_at, attempt) DO UPDATE SET ended_at = COALESCE(job_usage.ended_at, excluded.ended_at)`,
      )
      .run({ ...u, attempt: u.attempt ?? 1 });
  }

  unrecorded(): UnrecordedRun[] {
    return this.db
      .prepare<[], UnrecordedRun>(
        `SELECT j.id AS jobId, j.created_at AS jobCreatedAt, j.attempt, j.name, j.version_num AS versionNum, j.pool_id AS poolId,
                j.flavor_id AS flavorId, j.node_count AS nodes, j.started_at AS startedAt, j.ended_at AS endedAt
         FROM jobs j
         WHERE j.started_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM job_usage u WHERE u.job_id = j.id AND u.job_created_at = j.created_at AND u.attempt = j.attempt)`,
      )
      .all();
  }

  /**
   * Ends open runs whose job has ended, or is gone (deleted while a missed end left the run
   * open: it is closed now rather than charged forever).
   */
  closeEnded(now: string): void {
    this.db
      .prepare(
        `UPDATE job_usage SET ended_at = COALESCE(
           (SELECT j.ended_at FROM jobs j WHERE j.id = job_usage.job_id AND j.created_at = job_usage.job_created_at),
           CASE WHEN EXISTS (SELECT 1 FROM jobs j WHERE j.id = job_usage.job_id AND j.created_at = job_usage.job_created_at)
                THEN NULL ELSE ? END)
         WHERE ended_at IS NULL`,
      )
      .run(now);
  }

  usedCoreHours(now: string, weight: number): number {
    const row = this.db
      .prepare<{ now: string; weight: number }, { used: number | null }>(`SELECT SUM(${CORE_HOURS}) AS used FROM job_usage u`)
      .get({ now, weight });
    return row?.used ?? 0;
  }

  top(now: string, weight: number, limit: number): MeteredRun[] {
    return this.db
      .prepare<{ now: string; weight: number; limit: number }, MeteredRow>(`${METERED} ORDER BY core_hours DESC, u.id DESC LIMIT @limit`)
      .all({ now, weight, limit })
      .map(toRun);
  }

  page(now: string, weight: number, limit: number, offset: number): { items: MeteredRun[]; total: number } {
    const { n } = this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM job_usage').get()!;
    const items = this.db
      .prepare<{ now: string; weight: number; limit: number; offset: number }, MeteredRow>(
        `${METERED} ORDER BY u.started_at DESC, u.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ now, weight, limit, offset })
      .map(toRun);
    return { items, total: n };
  }
}
