import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from './database.js';
import { MIGRATIONS } from './migrations.js';

/** Migration 15 (automatic retry) over a database that already holds jobs and metered runs. */
describe('migration 15: attempts', () => {
  it('gives every started job its first attempt and keeps the metered runs', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    MIGRATIONS.slice(0, 14).forEach((sql) => db.exec(sql));
    db.pragma('user_version = 14');
    const insertJob = db.prepare(
      `INSERT INTO jobs (id, name, version_num, status, reason, failure_class, spec, pool_id, flavor_id, node_count, created_at, started_at, ended_at)
       VALUES (?, 'j', ?, ?, ?, ?, '{}', 'public', 'cpu', 2, '2026-01-01T00:00:00.000Z', ?, ?)`,
    );
    insertJob.run(1, 1, 'Running failed', 'boom', 'user', '2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z');
    insertJob.run(2, 2, 'Queuing', null, null, null, null);
    for (const id of [1, 2])
      for (const i of [0, 1]) db.prepare(`INSERT INTO job_nodes (job_id, idx, hostname, state) VALUES (?, ?, 'h', 'x')`).run(id, i);
    db.prepare(
      `INSERT INTO job_usage (job_id, job_created_at, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at, ended_at)
       VALUES (1, '2026-01-01T00:00:00.000Z', 'j', 1, 'public', 'cpu', 1, 0, 2, '2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z')`,
    ).run();

    migrate(db);

    expect(db.prepare('SELECT id, attempt, not_before FROM jobs ORDER BY id').all()).toEqual([
      { id: 1, attempt: 1, not_before: null },
      { id: 2, attempt: 1, not_before: null },
    ]);
    expect(db.prepare('SELECT * FROM job_attempts').all()).toEqual([
      {
        job_id: 1,
        attempt: 1,
        started_at: '2026-01-01T00:01:00.000Z',
        ended_at: '2026-01-01T00:02:00.000Z',
        status: 'Running failed',
        reason: 'boom',
        failure_class: 'user',
        first_seqs: '[1,1]',
      },
    ]);
    expect(db.prepare('SELECT job_id, attempt, ended_at FROM job_usage').all()).toEqual([
      { job_id: 1, attempt: 1, ended_at: '2026-01-01T00:02:00.000Z' },
    ]);
    // A second attempt of the same job is a run of its own.
    db.prepare(
      `INSERT INTO job_usage (job_id, job_created_at, attempt, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at)
       VALUES (1, '2026-01-01T00:00:00.000Z', 2, 'j', 1, 'public', 'cpu', 1, 0, 2, '2026-01-01T00:03:00.000Z')`,
    ).run();
    expect(db.prepare('SELECT COUNT(*) AS n FROM job_usage').get()).toEqual({ n: 2 });
  });
});
