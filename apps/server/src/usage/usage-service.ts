import type { JobUsage } from '@tc/contracts';
import { canAccess, type Actor } from '../accounts/actor.js';
import { NotFoundError } from '../errors.js';
import type { JobRepository } from '../jobs/job-repository.js';
import { parseVersion } from '../jobs/version.js';
import type { UsageRepository } from './usage-repository.js';

/** What a multi-host engine's jobs show instead of charts. */
export const USAGE_NOT_ON_SWARM =
  'Resource usage is not sampled on a Docker Swarm (ENGINE=swarm): the manager cannot read the containers of other hosts.';

/** A job's resource usage for its owner or an admin; anyone else is told the job does not exist. */
export class UsageService {
  constructor(
    private readonly jobs: Pick<JobRepository, 'get'>,
    private readonly usage: Pick<UsageRepository, 'forJob'>,
    /** Why the engine takes no samples; null when it does. */
    private readonly unavailable: string | null = null,
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
      unavailable: this.unavailable,
    };
  }
}
