import type { CreateTrainingJobRequest } from '@tc/contracts';
import { JobRepository } from '../../src/jobs/job-repository.js';
import type { ResourcePools } from '../../src/engine/resource-pools.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { tempDatabase } from './temp-database.js';

/**
 * A scheduler over a real (temporary) job database and the given pools, with the moves its tests
 * make: submit as JobService does, finish as the runner records it, and the names started.
 */
export async function schedulerHarness(pools: ResourcePools, defaultPool: string) {
  const jobs = new JobRepository(tempDatabase());
  await pools.refresh();
  const started: string[] = [];
  const scheduler = new Scheduler(jobs, pools, (id) => void started.push(jobs.getById(id)!.name));

  /** Creates a job as JobService does (Queuing, then admit). */
  const submit = (name: string, flavorId: string, nodes = 1, poolId = defaultPool) => {
    const job = jobs.createWithNextVersion({
      name,
      description: null,
      spec: { name } as CreateTrainingJobRequest,
      poolId,
      flavorId,
      nodeCount: nodes,
      hostnames: (v) => Array.from({ length: nodes }, (_, i) => `${name}-${v}-${i}`),
      createdAt: '2026-01-01T00:00:00.000Z',
      ownerId: 1,
    });
    scheduler.admit(job);
    return job.id;
  };
  const status = (id: number) => jobs.getById(id)!.status;
  /** The end of a run, as the runner records it; the scheduler reacts in a microtask. */
  const finish = async (id: number) => {
    if (status(id) === 'Initializing') jobs.transition(id, 'Initializing', 'Running');
    jobs.transition(id, 'Running', 'Successful', { endedAt: '2026-01-01T01:00:00.000Z' });
    await Promise.resolve();
  };
  return { jobs, scheduler, submit, status, finish, started };
}
