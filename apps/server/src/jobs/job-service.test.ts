import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, JobStatus } from '@tc/contracts';
import { tempDatabase } from '../../test/support/temp-database.js';
import type { Actor } from '../accounts/actor.js';
import { BudgetService } from '../budget/budget-service.js';
import { SaveParametersOnCreate } from '../job-parameters/parameter-set-service.js';
import { BudgetRepository } from '../budget/budget-repository.js';
import { ParameterSetRepository } from '../job-parameters/parameter-set-repository.js';
import { DatasetRepository } from '../datasets/dataset-repository.js';
import { JobRepository } from './job-repository.js';
import { NotificationRepository } from '../notifications/notification-repository.js';
import { DatasetService } from '../datasets/dataset-service.js';
import { ResourcePools } from '../engine/resource-pools.js';
import { Scheduler } from '../engine/scheduler.js';
import { ConflictError, InvalidInputError, NotFoundError, PaymentRequiredError } from '../errors.js';
import { NotificationService } from '../notifications/notification-service.js';
import { ObjectStoreError, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { JobService } from './job-service.js';

const alice: Actor = { userId: 1, username: 'alice', admin: false };
const bob: Actor = { userId: 2, username: 'bob', admin: false };
const admin: Actor = { userId: 3, username: 'root', admin: true };

const REGION = 'us-east-1';

/**
 * The part of the object store that submit checks call (bucketRegion, list), over a map of keys.
 * Everything else is out of scope here and fails loudly if a change starts calling it.
 */
class FakeStore implements ObjectStore {
  readonly asked: string[] = [];
  constructor(private readonly buckets: Record<string, { region: string; keys: string[] }>) {}

  async bucketRegion(bucket: string): Promise<string> {
    this.asked.push(bucket);
    const b = this.buckets[bucket];
    if (!b) throw new ObjectStoreError('not_found', 'GetBucketLocation', bucket, undefined, 'NoSuchBucket', '', 404);
    return b.region;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    for (const key of this.buckets[bucket]?.keys ?? []) if (key.startsWith(prefix)) yield { key, size: 1 };
  }

  ping(): Promise<void> {
    throw new Error('not used by the job service');
  }
  listBuckets(): Promise<string[]> {
    throw new Error('not used by the job service');
  }
  createBucket(): Promise<void> {
    throw new Error('not used by the job service');
  }
  listFolder(): Promise<{ folders: string[]; objects: ObjectInfo[] }> {
    throw new Error('not used by the job service');
  }
  getStream(): Promise<Readable> {
    throw new Error('not used by the job service');
  }
  presign(): Promise<string> {
    throw new Error('not used by the job service');
  }
  startMultipart(): Promise<string> {
    throw new Error('not used by the job service');
  }
  presignPart(): Promise<string> {
    throw new Error('not used by the job service');
  }
  completeMultipart(): Promise<void> {
    throw new Error('not used by the job service');
  }
  abortMultipart(): Promise<void> {
    throw new Error('not used by the job service');
  }
  deleteObject(): Promise<void> {
    throw new Error('not used by the job service');
  }
  upload(): Promise<void> {
    throw new Error('not used by the job service');
  }
}

function request(over: Partial<CreateTrainingJobRequest> = {}): CreateTrainingJobRequest {
  return {
    name: 'linreg',
    algorithm: { source: 'custom', imagePath: 'trainer:1', codeDir: 's3://work/code/', bootCommand: 'python train.py' },
    data: { source: 'path', path: 's3://work/data/' },
    trainOutput: 's3://work/out/',
    resources: { type: 'CPU', flavor: 'cpu.1u2g', nodes: 1 },
    ...over,
  };
}

async function setUp(opts: { budgetCoreHours?: number | null } = {}) {
  const db = tempDatabase();
  const jobs = new JobRepository(db);
  const pools = new ResourcePools(
    [
      {
        id: 'public',
        name: 'Public',
        capacity: null,
        network: false,
        flavors: [
          { id: 'cpu.1u2g', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0, label: '1 vCPU' },
          { id: 'cpu.4u8g', type: 'CPU', vcpus: 4, memoryGiB: 8, gpus: 0, label: '4 vCPUs' },
        ],
      },
    ],
    async () => ({ vcpus: 4, memoryGiB: 16, gpus: 0 }),
  );
  await pools.refresh();
  const started: number[] = [];
  const scheduler = new Scheduler(jobs, pools, (id) => void started.push(id));
  const store = new FakeStore({
    work: { region: REGION, keys: ['code/train.py', 'data/a.csv'] },
    far: { region: 'eu-west-1', keys: ['code/train.py'] },
  });
  const topics = new NotificationRepository(db);
  const notifications = new NotificationService({
    topics,
    jobs,
    addresses: { subscriptionProblem: async () => null },
    publicUrl: 'http://console.test',
    queued: () => {},
    log: { warn: () => {} },
  });
  const budget = new BudgetService({
    usage: new BudgetRepository(db),
    flavor: (p, f) => pools.flavor(p, f),
    limitCoreHours: opts.budgetCoreHours ?? null,
    gpuHourWeight: 1,
    log: { warn: () => {} },
  });
  const datasetRepo = new DatasetRepository(db);
  const datasets = new DatasetService(datasetRepo, store, REGION);
  const configs = new ParameterSetRepository(db);
  const runnerStops: number[] = [];
  const service = new JobService({
    jobs,
    logs: {
      page: () => [],
      text: async function* () {},
    },
    pools,
    scheduler,
    // What JobRunner.stop does with the status, without containers: ended jobs answer false.
    runner: {
      async stop(id) {
        runnerStops.push(id);
        const job = jobs.getById(id)!;
        if (job.status === 'Queuing') return jobs.transition(id, 'Queuing', 'Stopped', { endedAt: new Date().toISOString() });
        if (job.status === 'Initializing' || job.status === 'Running') return jobs.transition(id, job.status, 'Stopping');
        return job.status === 'Stopping';
      },
    },
    store,
    region: REGION,
    createHooks: [
      budget,
      { check: (req, actor) => datasets.checkJob(req, actor) },
      notifications,
      new SaveParametersOnCreate({ configs, jobs }),
    ],
  });
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n;
  /** Moves a job through statuses as the runner would, stamping start and end. */
  const move = (id: number, ...path: JobStatus[]) => {
    let from = jobs.getById(id)!.status;
    for (const to of path) {
      const at = new Date().toISOString();
      expect(jobs.transition(id, from, to, { startedAt: to === 'Running' ? at : undefined, endedAt: at })).toBe(true);
      from = to;
    }
  };
  return { db, jobs, service, store, topics, datasetRepo, configs, started, runnerStops, count, move };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected the call to fail'),
    (err: unknown) => err,
  );
}

describe('JobService.create: validation order', () => {
  it('refuses an unknown flavor before asking the object store anything', async () => {
    const { service, store, count } = await setUp();
    const err = await rejection(
      service.create(alice, request({ resources: { type: 'CPU', flavor: 'gpu.huge', nodes: 1 }, trainOutput: 's3://nowhere/out/' })),
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).fields.map((f) => f.path)).toEqual(['resources.flavor']);
    expect(store.asked).toEqual([]);
    expect(count()).toBe(0);
  });

  it('names every bad storage field at once, asking each bucket once, and stores nothing', async () => {
    const { service, store, count } = await setUp();
    const err = await rejection(
      service.create(
        alice,
        request({
          algorithm: { ...request().algorithm, codeDir: 's3://work/missing/' },
          trainOutput: 's3://far/out/',
          logPath: 's3://gone/logs/',
        }),
      ),
    );
    expect((err as InvalidInputError).fields).toEqual([
      { path: 'trainOutput', message: 'bucket far is in region eu-west-1, but the console works in region us-east-1' },
      { path: 'logPath', message: 'bucket gone does not exist' },
      { path: 'algorithm.codeDir', message: 'the Code Directory s3://work/missing/ does not exist (nothing is stored under it)' },
    ]);
    expect(store.asked).toEqual(['work', 'far', 'gone']);
    expect(count()).toBe(0);
  });

  it('runs the storage checks before the create hooks: a bad path wins over arrears', async () => {
    const { service } = await setUp({ budgetCoreHours: 0 });
    const err = await rejection(service.create(alice, request({ trainOutput: 's3://gone/out/' })));
    expect(err).toBeInstanceOf(InvalidInputError);
  });

  it('refuses a name another user owns before any hook runs', async () => {
    const { service } = await setUp();
    await service.create(alice, request());
    // Bob is also in arrears-free territory and names a topic that does not exist: the name comes first.
    const err = await rejection(service.create(bob, request({ notification: { topic: 'nope', events: ['OnJobRunning'] } })));
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toContain('used by another user');
  });

  it('lets an admin add a version to a name another user owns', async () => {
    const { service } = await setUp();
    await service.create(alice, request());
    expect((await service.create(admin, request())).version).toBe('V002');
  });
});

describe('JobService.create: versions', () => {
  it('gives each name its own next version, starting at V001', async () => {
    const { service } = await setUp();
    const versions = [];
    for (const name of ['a', 'a', 'b', 'a']) versions.push((await service.create(alice, request({ name }))).version);
    expect(versions).toEqual(['V001', 'V002', 'V001', 'V003']);
  });

  it('does not reuse the version of a deleted job when it was not the latest', async () => {
    const { service, jobs, move } = await setUp();
    await service.create(alice, request());
    await service.create(alice, request());
    move(jobs.get('linreg', 1)!.id, 'Stopped');
    service.delete(alice, 'linreg', 'V001');
    expect((await service.create(alice, request())).version).toBe('V003');
  });

  it('records the created event and the placement the job got (omitted resources: smallest CPU flavor × 1)', async () => {
    const { service } = await setUp();
    const job = await service.create(alice, request({ resources: undefined }));
    expect(job.events[0]).toMatchObject({ type: 'created', message: 'job linreg V001 created on public with flavor cpu.1u2g × 1' });
  });

  it('warns, but creates, when the Training Output Path already holds files', async () => {
    const { service } = await setUp();
    const job = await service.create(alice, request({ trainOutput: 's3://work/code/' }));
    expect(job.events.map((e) => e.type)).toContain('warning');
  });
});

describe('JobService.create: idempotency keys', () => {
  it('returns the first job for a repeat of the same request and creates nothing', async () => {
    const { service, count } = await setUp();
    const first = await service.create(alice, request(), 'key-1');
    const again = await service.create(alice, request(), 'key-1');
    expect(again.version).toBe(first.version);
    expect(count()).toBe(1);
  });

  it('refuses the same key with another request with a 409', async () => {
    const { service, count } = await setUp();
    await service.create(alice, request(), 'key-1');
    await expect(service.create(alice, request({ description: 'other' }), 'key-1')).rejects.toBeInstanceOf(ConflictError);
    expect(count()).toBe(1);
  });

  it('keeps keys per user: the same key from another user makes another job', async () => {
    const { service, count } = await setUp();
    await service.create(alice, request({ name: 'a' }), 'key-1');
    const bobs = await service.create(bob, request({ name: 'b' }), 'key-1');
    expect(bobs.name).toBe('b');
    expect(count()).toBe(2);
  });

  it('replays before any check: a repeat still answers after the account fell into arrears', async () => {
    const { service, db } = await setUp({ budgetCoreHours: 1 });
    const first = await service.create(alice, request(), 'key-1');
    // A run that used the whole budget.
    new BudgetRepository(db).record({
      jobId: 999,
      jobCreatedAt: '2026-01-01T00:00:00.000Z',
      name: 'big',
      versionNum: 1,
      poolId: 'public',
      flavorId: 'cpu.1u2g',
      vcpus: 1,
      gpus: 0,
      nodes: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T02:00:00.000Z',
    });
    await expect(service.create(alice, request(), 'key-2')).rejects.toBeInstanceOf(PaymentRequiredError);
    expect((await service.create(alice, request(), 'key-1')).version).toBe(first.version);
  });
});

describe('JobService: ownership', () => {
  it("answers another user's job as not found, for every use case", async () => {
    const { service } = await setUp();
    await service.create(alice, request());
    expect(() => service.get(bob, 'linreg', 'V001')).toThrow(NotFoundError);
    expect(() => service.delete(bob, 'linreg', 'V001')).toThrow(NotFoundError);
    await expect(service.stop(bob, 'linreg', 'V001')).rejects.toBeInstanceOf(NotFoundError);
    expect(() => service.logs(bob, 'linreg', 'V001', { limit: 10, node: 0 })).toThrow(NotFoundError);
    // The message is the one a job that never existed gets.
    expect(() => service.get(bob, 'linreg', 'V001')).toThrow('training job linreg V001 does not exist');
  });

  it('lists only the actor’s own jobs; an admin sees all', async () => {
    const { service } = await setUp();
    await service.create(alice, request({ name: 'a' }));
    await service.create(bob, request({ name: 'b' }));
    const names = (actor: Actor) => service.list(actor, { page: 1, pageSize: 20 }).items.map((j) => j.name);
    expect(names(alice)).toEqual(['a']);
    expect(names(bob)).toEqual(['b']);
    expect(names(admin)).toEqual(['b', 'a']);
  });

  it('lists one row per name with latest=true: its latest version and a count, in the actor’s scope', async () => {
    const { service, jobs, move } = await setUp();
    for (const name of ['a', 'a', 'b', 'a']) await service.create(alice, request({ name }));
    await service.create(bob, request({ name: 'c' }));
    const rows = (actor: Actor, q: { status?: JobStatus; name?: string; pageSize?: number; page?: number } = {}) => {
      const list = service.list(actor, { page: 1, pageSize: 20, latest: 'true', ...q });
      return { total: list.total, items: list.items.map((j) => `${j.name} ${j.version} ×${j.versionCount}`) };
    };
    expect(rows(alice)).toEqual({ total: 2, items: ['a V003 ×3', 'b V001 ×1'] });
    expect(rows(admin)).toEqual({ total: 3, items: ['c V001 ×1', 'a V003 ×3', 'b V001 ×1'] });
    expect(rows(alice, { pageSize: 1, page: 2 })).toEqual({ total: 2, items: ['b V001 ×1'] });
    expect(rows(alice, { name: 'b' })).toEqual({ total: 1, items: ['b V001 ×1'] });
    // The status filter looks at the latest version only: a's older versions do not count.
    move(jobs.get('a', 1)!.id, 'Stopped');
    expect(rows(alice, { status: 'Stopped' })).toEqual({ total: 0, items: [] });
    move(jobs.get('a', 3)!.id, 'Stopped');
    expect(rows(alice, { status: 'Stopped' })).toEqual({ total: 1, items: ['a V003 ×3'] });
    // Without latest the list is every version, as before, and carries no count.
    const all = service.list(alice, { page: 1, pageSize: 20 });
    expect(all.items.map((j) => `${j.name} ${j.version}`)).toEqual(['a V003', 'b V001', 'a V002', 'a V001']);
    expect(all.items.every((j) => j.versionCount === undefined)).toBe(true);
  });

  it('treats a malformed version as a missing job', async () => {
    const { service } = await setUp();
    await service.create(alice, request());
    expect(() => service.get(alice, 'linreg', 'v1')).toThrow(NotFoundError);
  });
});

describe('JobService: stop and delete by status', () => {
  it('refuses to delete a job that has not ended, whatever its status', async () => {
    const { service, jobs, move } = await setUp();
    const big = { type: 'CPU' as const, flavor: 'cpu.4u8g', nodes: 1 };
    await service.create(alice, request({ name: 'first', resources: big }));
    // The pool is full now, so the second one waits.
    await service.create(alice, request({ name: 'second', resources: big }));
    expect(jobs.get('second', 1)!.status).toBe('Queuing');
    expect(() => service.delete(alice, 'second', 'V001')).toThrow('training job second V001 is Queuing; stop it before deleting it');
    const first = jobs.get('first', 1)!.id;
    for (const next of [null, 'Running', 'Stopping'] as const) {
      if (next) move(first, next);
      expect(() => service.delete(alice, 'first', 'V001')).toThrow(ConflictError);
    }
  });

  it('deletes an ended job with its events, and answers not found afterwards', async () => {
    const { service, jobs, move, db } = await setUp();
    await service.create(alice, request());
    const id = jobs.get('linreg', 1)!.id;
    move(id, 'Running', 'Successful');
    service.delete(alice, 'linreg', 'V001');
    expect(() => service.get(alice, 'linreg', 'V001')).toThrow(NotFoundError);
    expect((db.prepare('SELECT COUNT(*) AS n FROM job_events WHERE job_id = ?').get(id) as { n: number }).n).toBe(0);
  });

  it('stops a live job, and answers 409 naming the status for one that has ended', async () => {
    const { service, jobs, move } = await setUp();
    await service.create(alice, request());
    expect((await service.stop(alice, 'linreg', 'V001')).status).toBe('Stopping');
    move(jobs.get('linreg', 1)!.id, 'Stopped');
    await expect(service.stop(alice, 'linreg', 'V001')).rejects.toThrow('training job linreg V001 has already ended (Stopped)');
  });
});

describe('JobService.create: hooks', () => {
  it('refuses a create in arrears with PaymentRequiredError (402) and stores nothing', async () => {
    const { service, count } = await setUp({ budgetCoreHours: 0 });
    const err = await rejection(service.create(alice, request(), 'key-1'));
    expect(err).toBeInstanceOf(PaymentRequiredError);
    expect((err as PaymentRequiredError).code).toBe('in_arrears');
    expect(count()).toBe(0);
  });

  it('refuses a topic the user may not use, naming notification.topic, as if it did not exist', async () => {
    const { service, topics, count } = await setUp();
    topics.createTopic({
      name: 'bobs',
      description: null,
      secret: 's',
      createdAt: new Date().toISOString(),
      urls: [],
      ownerId: bob.userId,
    });
    const notification = { topic: 'bobs', events: ['OnJobRunning' as const] };
    const err = await rejection(service.create(alice, request({ notification })));
    expect((err as InvalidInputError).fields).toEqual([
      { path: 'notification.topic', message: 'notification topic bobs does not exist; create it under Notification topics first' },
    ]);
    expect(count()).toBe(0);
    expect((await service.create(bob, request({ notification }))).version).toBe('V001');
  });

  it("refuses another user's dataset, naming data.datasetId", async () => {
    const { service, datasetRepo } = await setUp();
    const ds = datasetRepo.create({
      name: 'cars',
      description: null,
      path: 's3://work/data/',
      createdAt: '2026-01-01T00:00:00Z',
      ownerId: bob.userId,
    })!;
    const v = datasetRepo.beginVersion(ds.id, '2026-01-01T00:00:00Z');
    datasetRepo.finishVersion(ds.id, v, 0, 0);
    const data = { source: 'dataset' as const, datasetId: 'cars', version: 'V001' };
    const err = await rejection(service.create(alice, request({ data })));
    expect((err as InvalidInputError).fields.map((f) => f.path)).toEqual(['data.datasetId']);
    expect((await service.create(bob, request({ data }))).version).toBe('V001');
  });

  it('refuses a taken saveConfig name before storing the job, and saves the set after a create', async () => {
    const { service, configs, count } = await setUp();
    const made = await service.create(alice, request({ saveConfig: { name: 'base' } }));
    expect(made.events.map((e) => e.type)).toContain('parameters-saved');
    expect(configs.get('base')).toMatchObject({ ownerId: alice.userId, sourceJob: { name: 'linreg', version: 'V001' } });
    await expect(service.create(alice, request({ saveConfig: { name: 'base' } }))).rejects.toBeInstanceOf(ConflictError);
    expect(count()).toBe(1);
  });

  it('does not use up a version when a hook refuses', async () => {
    const { service } = await setUp();
    await expect(service.create(alice, request({ notification: { topic: 'nope', events: ['OnJobRunning'] } }))).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    expect((await service.create(alice, request())).version).toBe('V001');
  });
});
