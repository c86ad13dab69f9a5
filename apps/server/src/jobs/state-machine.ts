import type { JobStatus } from '@tc/contracts';

/**
 * Which status may follow which. The runner and the stop action both move jobs; checking every
 * move here keeps a late event (a container exit after a stop, a restart after the end) from
 * rewriting a finished job.
 */
const NEXT: Record<JobStatus, readonly JobStatus[]> = {
  Initializing: ['Queuing', 'Running', 'Running failed', 'Stopping', 'Stopped'],
  Queuing: ['Initializing', 'Running failed', 'Stopping', 'Stopped'],
  // Running → Queuing: a failed run retried as a new attempt (its policy allows it), decided
  // before the job would end, so a retried job never shows as failed.
  Running: ['Queuing', 'Successful', 'Running failed', 'Stopping'],
  Stopping: ['Stopped', 'Running failed'],
  Successful: [],
  'Running failed': [],
  Stopped: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: JobStatus,
    readonly to: JobStatus,
  ) {
    super(`a job cannot go from ${from} to ${to}`);
  }
}

export function assertTransition(from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}
