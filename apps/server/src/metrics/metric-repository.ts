import type { MetricDefinition } from '@tc/contracts';
import type { Db } from '../db/database.js';

export type MetricSource = 'log' | 'file';

export interface NewMetricPoint {
  name: string;
  node: number;
  /** Orders a series: the log line's seq, or the metrics.jsonl line's number. */
  seq: number;
  step: number | null;
  at: string;
  value: number;
}

export interface StoredMetricPoint extends NewMetricPoint {
  id: number;
}

/** Metric points per job, name and node (migration: metric_points). */
export class MetricRepository {
  constructor(private readonly db: Db) {}

  insert(jobId: number, source: MetricSource, points: readonly NewMetricPoint[]): void {
    if (points.length === 0) return;
    const stmt = this.db.prepare(
      'INSERT INTO metric_points (job_id, name, node, seq, step, at, value, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const p of points) stmt.run(jobId, p.name, p.node, p.seq, p.step, p.at, p.value, source);
    })();
  }

  /** How many points the job holds, its series (name and node), and the names a metrics.jsonl gave. */
  summary(jobId: number): { points: number; series: { name: string; node: number }[]; fileNames: string[] } {
    const { n } = this.db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM metric_points WHERE job_id = ?').get(jobId)!;
    const series = this.db
      .prepare<[number], { name: string; node: number }>('SELECT DISTINCT name, node FROM metric_points WHERE job_id = ?')
      .all(jobId);
    const fileNames = this.db
      .prepare<[number], { name: string }>("SELECT DISTINCT name FROM metric_points WHERE job_id = ? AND source = 'file'")
      .all(jobId)
      .map((r) => r.name);
    return { points: n, series, fileNames };
  }

  deleteSource(jobId: number, source: MetricSource): void {
    this.db.prepare('DELETE FROM metric_points WHERE job_id = ? AND source = ?').run(jobId, source);
  }

  deleteNames(jobId: number, names: readonly string[]): void {
    const stmt = this.db.prepare('DELETE FROM metric_points WHERE job_id = ? AND name = ?');
    this.db.transaction(() => {
      for (const n of names) stmt.run(jobId, n);
    })();
  }

  /** Every point of the job in series order: name, node, then their order in the log or file. */
  all(jobId: number): StoredMetricPoint[] {
    return this.db
      .prepare<[number], StoredMetricPoint>(
        'SELECT id, name, node, seq, step, at, value FROM metric_points WHERE job_id = ? ORDER BY name, node, seq, id',
      )
      .all(jobId);
  }

  /** A page of points in series order after the given key, for streaming the CSV without holding it all. */
  pageAfter(jobId: number, after: { name: string; node: number; seq: number; id: number } | null, limit: number): StoredMetricPoint[] {
    if (!after) {
      return this.db
        .prepare<[number, number], StoredMetricPoint>(
          'SELECT id, name, node, seq, step, at, value FROM metric_points WHERE job_id = ? ORDER BY name, node, seq, id LIMIT ?',
        )
        .all(jobId, limit);
    }
    return this.db
      .prepare<[number, string, number, number, number, number], StoredMetricPoint>(
        `SELECT id, name, node, seq, step, at, value FROM metric_points WHERE job_id = ? AND (name, node, seq, id) > (?, ?, ?, ?)
         ORDER BY name, node, seq, id LIMIT ?`,
      )
      .all(jobId, after.name, after.node, after.seq, after.id, limit);
  }

  /** The definitions live in the job's spec, so the job's own view shows what its metrics are read with. */
  setDefinitions(jobId: number, defs: readonly MetricDefinition[]): void {
    this.db.prepare("UPDATE jobs SET spec = json_set(spec, '$.metrics', json(?)) WHERE id = ?").run(JSON.stringify(defs), jobId);
  }
}
