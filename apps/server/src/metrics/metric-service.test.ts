import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest } from '@tc/contracts';
import { tempDatabase } from '../../test/support/temp-database.js';
import { JobRepository } from '../jobs/job-repository.js';
import { LogRepository } from '../engine/log-repository.js';
import { LogSink } from '../engine/log-sink.js';
import type { ObjectStore } from '../storage/object-store.js';
import { MetricRepository } from './metric-repository.js';
import { MetricService } from './metric-service.js';

const admin = { userId: 0, username: 'admin', admin: true };

function setUp(limits: { maxPoints?: number; maxSeries?: number } = {}, spec: Partial<CreateTrainingJobRequest> = {}) {
  const db = tempDatabase();
  const jobs = new JobRepository(db);
  const logs = new LogRepository(db);
  const store = { getStream: () => Promise.reject(new Error('no store in this test')) } as unknown as ObjectStore;
  const service = new MetricService({ metrics: new MetricRepository(db), jobs, logs, store, ...limits });
  const job = jobs.createWithNextVersion({
    name: 'm',
    description: null,
    spec: { name: 'm', trainOutput: 'obs://b/out/', ...spec } as CreateTrainingJobRequest,
    poolId: 'public',
    flavorId: 'cpu.1u2g',
    nodeCount: 2,
    hostnames: () => ['m-0', 'm-1'],
    createdAt: new Date().toISOString(),
    ownerId: 0,
  });
  const sink = (node: number) => new LogSink(logs, job.id, node, { flushMs: 0 });
  /** Lines are read in a microtask after they are stored. */
  const settle = () => new Promise((r) => setImmediate(r));
  return { jobs, service, job, sink, settle };
}

describe('MetricService', () => {
  it('reads lines as they are stored, per node, skipping the platform’s own lines', async () => {
    const { service, sink, settle } = setUp();
    const a = sink(0);
    const b = sink(1);
    a.add('stdout', 'epoch 1/2 loss=0.5');
    b.add('stdout', 'epoch 1/2 loss=0.6');
    a.system('loss=99 (a platform line)');
    a.add('stdout', 'epoch 2/2 loss=0.4');
    a.flush();
    b.flush();
    await settle();
    const m = service.get(admin, 'm', 'V001');
    expect(m.series.map((s) => [s.name, s.node, s.points.map((p) => [p.step, p.value])])).toEqual([
      [
        'loss',
        0,
        [
          [1, 0.5],
          [2, 0.4],
        ],
      ],
      ['loss', 1, [[1, 0.6]]],
    ]);
  });

  it('stops at the limits with one warning event', async () => {
    const { jobs, job, service, sink, settle } = setUp({ maxPoints: 5, maxSeries: 2 });
    const a = sink(0);
    for (let i = 1; i <= 4; i++) a.add('stdout', `step ${i} loss=${i} acc=${i} third=${i}`);
    a.flush();
    await settle();
    const m = service.get(admin, 'm', 'V001');
    expect(m.series.map((s) => s.name)).toEqual(['acc', 'loss']);
    expect(m.series.flatMap((s) => s.points)).toHaveLength(5);
    const warnings = jobs.events(job.id).filter((e) => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/limit of 5 points or 2 series/);
  });

  it('reads the stored log again with new definitions, and live lines after it once', async () => {
    const { service, sink, settle } = setUp({}, { metrics: [{ name: 'x', regex: 'x\\[(\\d+)\\]' }] });
    const a = sink(0);
    a.add('stdout', 'step 1 x[1] y[10]');
    a.flush();
    await settle();
    expect(service.get(admin, 'm', 'V001').series.map((s) => s.name)).toEqual(['x']);
    const after = await service.define(admin, 'm', 'V001', [{ name: 'y', regex: 'y\\[(\\d+)\\]' }]);
    expect(after.series.map((s) => [s.name, s.points.map((p) => p.value)])).toEqual([['y', [10]]]);
    a.add('stdout', 'step 2 x[2] y[20]');
    a.flush();
    await settle();
    expect(service.get(admin, 'm', 'V001').series.map((s) => [s.name, s.points.map((p) => p.value)])).toEqual([['y', [10, 20]]]);
  });
});
