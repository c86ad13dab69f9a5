import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest } from '@tc/contracts';
import { openDatabase, type Db } from '../db/database.js';
import { JobRepository } from './job-repository.js';
import { NotificationRepository } from '../notifications/notification-repository.js';

const dirs: string[] = [];
const open: Db[] = [];

/** A real database file, so a second connection can look at what is committed. */
function setUp() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-job-repo-'));
  dirs.push(dir);
  const file = path.join(dir, 'console.db');
  const db = openDatabase(file);
  const other = new Database(file, { readonly: true });
  open.push(db, other);
  const jobs = new JobRepository(db);
  const topics = new NotificationRepository(db);
  const at = new Date().toISOString();
  topics.createTopic({ name: 'ops', description: null, secret: 's', createdAt: at, urls: ['http://127.0.0.1:9/hook'], ownerId: 0 });
  const job = jobs.createWithNextVersion({
    name: 'linreg',
    description: null,
    spec: { name: 'linreg' } as CreateTrainingJobRequest,
    poolId: 'public',
    flavorId: 'cpu.1u2g',
    nodeCount: 1,
    hostnames: () => ['linreg-v001-0'],
    createdAt: at,
    ownerId: 0,
  });
  const subscription = topics.getTopic('ops')!.subscriptions[0]!;
  /** The outbox write the notification service makes on a status change. */
  const enqueue = () =>
    topics.enqueue([
      {
        messageId: `m-${Math.random()}`,
        topic: 'ops',
        subscriptionId: Number(subscription.id),
        url: subscription.url,
        event: 'OnJobRunning',
        job: { id: job.id, name: job.name, version: job.version },
        body: '{}',
        createdAt: at,
      },
    ]);
  /** What another connection (another process, or this one after a crash) sees as committed. */
  const committed = () => ({
    status: other.prepare<[number], { status: string }>('SELECT status FROM jobs WHERE id = ?').get(job.id)!.status,
    outbox: other.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM notification_deliveries').get()!.n,
  });
  return { db, jobs, job, enqueue, committed, outbox: () => committed().outbox };
}

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('JobRepository.transition', () => {
  it('commits the status change and the listeners’ outbox rows together', async () => {
    const { jobs, job, enqueue, committed } = setUp();
    const seenDuring: ReturnType<typeof committed>[] = [];
    jobs.onTransition(() => enqueue());
    // Runs after the outbox write: nothing of the change may be visible to others yet.
    jobs.onTransition(() => void seenDuring.push(committed()));

    expect(jobs.transition(job.id, 'Queuing', 'Initializing')).toBe(true);
    expect(seenDuring).toEqual([{ status: 'Queuing', outbox: 0 }]);
    expect(committed()).toEqual({ status: 'Initializing', outbox: 1 });
  });

  it('keeps the status change when a listener throws, rolling back only that listener’s writes', () => {
    const { jobs, job, enqueue, committed } = setUp();
    jobs.onTransition(() => {
      enqueue();
      throw new Error('the outbox write failed half-way');
    });
    jobs.onTransition(() => enqueue());

    expect(jobs.transition(job.id, 'Queuing', 'Initializing')).toBe(true);
    // The first listener's row is gone with its savepoint; the second's stays; the job moved.
    expect(committed()).toEqual({ status: 'Initializing', outbox: 1 });
    expect(jobs.transition(job.id, 'Initializing', 'Running', { startedAt: new Date().toISOString() })).toBe(true);
    expect(committed()).toEqual({ status: 'Running', outbox: 2 });
  });

  it('leaves neither the status nor the outbox row when the transaction around them rolls back', () => {
    const { db, jobs, job, enqueue, committed } = setUp();
    jobs.onTransition(() => enqueue());
    const crash = db.transaction(() => {
      jobs.transition(job.id, 'Queuing', 'Initializing');
      throw new Error('crash before commit');
    });
    expect(() => crash()).toThrow('crash before commit');
    expect(committed()).toEqual({ status: 'Queuing', outbox: 0 });
  });

  it('calls no listener when the job is no longer in `from`', () => {
    const { jobs, job, committed } = setUp();
    let calls = 0;
    jobs.onTransition(() => void (calls += 1));
    expect(jobs.transition(job.id, 'Running', 'Successful')).toBe(false);
    expect(calls).toBe(0);
    expect(committed().status).toBe('Queuing');
  });

  it('refuses a move the state machine does not allow, before touching the row', () => {
    const { jobs, job, committed } = setUp();
    expect(() => jobs.transition(job.id, 'Queuing', 'Successful')).toThrow('a job cannot go from Queuing to Successful');
    expect(jobs.transition(job.id, 'Queuing', 'Initializing')).toBe(true);
    expect(() => jobs.transition(job.id, 'Successful', 'Running')).toThrow(/cannot go from Successful to Running/);
    expect(committed().status).toBe('Initializing');
  });
});

describe('JobRepository.listLatest', () => {
  it('lists each name once, at its latest version with its count, and moves back when that version is deleted', () => {
    const { jobs, job } = setUp();
    const another = (name: string) =>
      jobs.createWithNextVersion({
        name,
        description: null,
        spec: { name } as CreateTrainingJobRequest,
        poolId: 'public',
        flavorId: 'cpu.1u2g',
        nodeCount: 1,
        hostnames: (v) => [`${name}-${v.toLowerCase()}-0`],
        createdAt: new Date().toISOString(),
        ownerId: 0,
      });
    const v2 = another('linreg');
    const v3 = another('linreg');
    another('bert');
    const page = () => jobs.listLatest({ limit: 20, offset: 0 }).items.map((i) => [i.job.name, i.job.version, i.versionCount]);
    expect(page()).toEqual([
      ['bert', 'V001', 1],
      ['linreg', 'V003', 3],
    ]);
    jobs.delete(v3.id);
    expect(page()).toEqual([
      ['bert', 'V001', 1],
      ['linreg', 'V002', 2],
    ]);
    // Deleting an older version leaves the latest where it is.
    jobs.delete(job.id);
    expect(page()).toEqual([
      ['bert', 'V001', 1],
      ['linreg', 'V002', 1],
    ]);
    expect(jobs.listLatest({ status: 'Queuing', limit: 20, offset: 0 }).total).toBe(2);
    expect(v2.version).toBe('V002');
  });
});
