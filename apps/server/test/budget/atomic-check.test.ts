import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestConsole } from '../support/console.js';
import { closeJobsConsole, jobRequest, startJobsConsole } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
let writer: ChildProcess | undefined;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ BUDGET_CORE_HOURS: '1' }));
});

afterAll(async () => {
  writer?.kill();
  await closeJobsConsole(tc);
});

/**
 * Another process on the console's database (a second console, a maintenance script) that takes
 * the write lock, records a run worth far more than the budget, and commits a moment later.
 * Resolves once it holds the lock; `committed` resolves when it has let go.
 */
function meterInAnotherProcess(dbFile: string): Promise<{ committed: Promise<void> }> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(process.env.SQLITE);
    const db = new Database(process.env.DB_FILE);
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    const end = new Date(), start = new Date(end.getTime() - 3600000);
    db.prepare(\`INSERT INTO job_usage (job_id, job_created_at, name, version_num, pool_id, flavor_id, vcpus, gpus, nodes, started_at, ended_at)
                 VALUES (999999, ?, 'elsewhere', 1, 'public', 'big', 1000, 0, 1, ?, ?)\`).run(start.toISOString(), start.toISOString(), end.toISOString());
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('committed\\n'); }, 1500);
  `;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, SQLITE: sqlite, DB_FILE: dbFile } });
  writer = child;
  let out = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const committed = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 && out.includes('committed') ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`)),
    );
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('locked')) resolve({ committed });
    });
    committed.catch(reject);
  });
}

describe('the budget check and the create', () => {
  it('are one transaction: a run metered by another process while the create waits for the database is seen by the check', async () => {
    // Use the token once now, so the create itself writes nothing before its transaction.
    expect((await tc.app.inject({ url: '/api/v1/budget' })).json().inArrears).toBe(false);

    const { committed } = await meterInAnotherProcess(path.join(tc.dataDir, 'console.db'));
    // Sent while the other process holds the write lock with the overdraft not yet committed.
    const res = await tc.app.inject({ method: 'POST', url: '/api/v1/training-jobs', payload: jobRequest('raced', image, 'true') });
    await committed;
    // The create took the write lock first and checked under it, so it saw the overdraft: 402, no job.
    expect(res.statusCode, res.body).toBe(402);
    expect(res.json().error).toBe('in_arrears');
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?name=raced' })).json().total).toBe(0);
  });
});
