import type { JobStatus } from '@tc/contracts';

/** What a job or summary says of its attempts (both absent for a job without a retry policy). */
export interface AttemptOf {
  attempt?: number;
  maxAttempts?: number;
}

const ON_ITS_WAY: ReadonlySet<JobStatus> = new Set(['Queuing', 'Initializing', 'Running', 'Stopping']);

/** "attempt 2 of 3" while a retry is on its way (queued, starting, running); null otherwise. */
export function attemptText(status: JobStatus, a: AttemptOf | undefined): string | null {
  if (!a?.attempt || !a.maxAttempts || a.attempt < 2 || !ON_ITS_WAY.has(status)) return null;
  return `attempt ${a.attempt} of ${a.maxAttempts}`;
}
