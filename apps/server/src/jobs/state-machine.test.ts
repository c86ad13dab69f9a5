import { describe, expect, it } from 'vitest';
import { JOB_STATUSES, TERMINAL_STATUSES } from '@tc/contracts';
import { assertTransition, canTransition, InvalidTransitionError } from './state-machine.js';

describe('job state machine', () => {
  it('follows the spine path', () => {
    expect(canTransition('Initializing', 'Running')).toBe(true);
    expect(canTransition('Running', 'Successful')).toBe(true);
    expect(canTransition('Running', 'Running failed')).toBe(true);
    expect(canTransition('Initializing', 'Running failed')).toBe(true);
  });
  it('stops through Stopping', () => {
    expect(canTransition('Running', 'Stopping')).toBe(true);
    expect(canTransition('Stopping', 'Stopped')).toBe(true);
    expect(canTransition('Running', 'Stopped')).toBe(false);
  });
  it('never leaves a terminal status', () => {
    for (const from of TERMINAL_STATUSES) for (const to of JOB_STATUSES) expect(canTransition(from, to)).toBe(false);
  });
  it('goes back to the queue for a retry, but not once stopping', () => {
    expect(canTransition('Running', 'Queuing')).toBe(true);
    expect(canTransition('Initializing', 'Queuing')).toBe(true);
    expect(canTransition('Stopping', 'Queuing')).toBe(false);
  });
  it('cannot go back to Initializing from Running', () => {
    expect(() => assertTransition('Running', 'Initializing')).toThrow(InvalidTransitionError);
    expect(() => assertTransition('Running', 'Initializing')).toThrow('a job cannot go from Running to Initializing');
  });
});
