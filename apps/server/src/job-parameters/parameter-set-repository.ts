import type { TrainingJobParameters } from '@tc/contracts';
import type { ParameterSetRecord } from './parameter-set.js';
import type { Db } from '../db/database.js';
import { listPage } from '../db/list-query.js';

interface ParameterSetRow {
  name: string;
  description: string | null;
  parameters: string;
  source_job_name: string | null;
  source_job_version: string | null;
  created_at: string;
  updated_at: string;
  owner_id: number | null;
}

function toRecord(r: ParameterSetRow): ParameterSetRecord {
  return {
    name: r.name,
    description: r.description,
    parameters: JSON.parse(r.parameters) as TrainingJobParameters,
    sourceJob: r.source_job_name && r.source_job_version ? { name: r.source_job_name, version: r.source_job_version } : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ownerId: r.owner_id,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Saved parameter sets. No foreign key to jobs: a set outlives the job it was saved from. */
export class ParameterSetRepository {
  constructor(private readonly db: Db) {}

  /** Returns false when the name is taken, leaving the existing set untouched. */
  insert(c: ParameterSetRecord): boolean {
    try {
      this.db
        .prepare(
          `INSERT INTO training_job_configs (name, description, parameters, source_job_name, source_job_version, created_at, updated_at, owner_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.name,
          c.description,
          JSON.stringify(c.parameters),
          c.sourceJob?.name ?? null,
          c.sourceJob?.version ?? null,
          c.createdAt,
          c.updatedAt,
          c.ownerId,
        );
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  get(name: string): ParameterSetRecord | null {
    const row = this.db.prepare<[string], ParameterSetRow>('SELECT * FROM training_job_configs WHERE name = ?').get(name);
    return row ? toRecord(row) : null;
  }

  exists(name: string): boolean {
    return this.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM training_job_configs WHERE name = ?').get(name) !== undefined;
  }

  list(filter: { ownerId?: number; name?: string; limit: number; offset: number }): { items: ParameterSetRecord[]; total: number } {
    const { rows, total } = listPage<ParameterSetRow>(this.db, {
      table: 'training_job_configs',
      filter,
      orderBy: 'created_at DESC, name',
      limit: filter.limit,
      offset: filter.offset,
    });
    return { items: rows.map(toRecord), total };
  }

  /** Returns false when there is no such set. */
  update(name: string, fields: { description: string | null; parameters: TrainingJobParameters; updatedAt: string }): boolean {
    const info = this.db
      .prepare('UPDATE training_job_configs SET description = ?, parameters = ?, updated_at = ? WHERE name = ?')
      .run(fields.description, JSON.stringify(fields.parameters), fields.updatedAt, name);
    return info.changes === 1;
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM training_job_configs WHERE name = ?').run(name).changes === 1;
  }
}
