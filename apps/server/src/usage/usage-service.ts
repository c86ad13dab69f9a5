import type { JobUsage } from '@tc/contracts';
import { canAccess, type Actor } from '../accounts/actor.js';
import { NotFoundError } from '../errors.js';
import type { JobRepository } from '../jobs/job-repository.js';
import { parseVersion } from '../jobs/version.js';
import type { UsageRepository } from './usage-repository.js';

/** A job's resource usage for its owner or an admin; anyone else is told the job does not exist. */
export class UsageService {
  constructor(
    private readonly jobs: Pick<JobRepository, 'get'>,
    private readonly usage: Pick<UsageRepository, 'forJob'>,
  ) {}

  get(actor: Actor, name: string, version: string): JobUsage {
    const n = parseVersion(version);
    const job = n === null ? null : this.jobs.get(name, n);
    if (!job || !canAccess(actor, job.ownerId)) throw new NotFoundError(`training job ${name} ${version} does not exist`);
    const byNode = this.usage.forJob(job.id);
    return {
      nodes: Array.from({ length: job.nodeCount }, (_, index) => ({
        index,
        samples: (byNode.get(index) ?? []).map((s) => ({ ...s, at: s.at.toISOString() })),
      })),
    };
  }
}
