import { describe, expect, it } from 'vitest';
import { retryDecision, totalAttempts } from './retry-policy.js';

describe('retryDecision', () => {
  it('does not retry without a policy or with no retries', () => {
    expect(retryDecision('platform', undefined, 1)).toEqual({ retry: false });
    expect(retryDecision('platform', { maxAttempts: 0 }, 1)).toEqual({ retry: false });
  });
  it('retries platform failures only by default', () => {
    expect(retryDecision('platform', { maxAttempts: 2 }, 1, 1000)).toEqual({ retry: true, nextAttempt: 2, of: 3, backoffMs: 1000 });
    expect(retryDecision('user', { maxAttempts: 2 }, 1)).toEqual({ retry: false });
    expect(retryDecision('resources', { maxAttempts: 2 }, 1)).toEqual({ retry: false });
    expect(retryDecision('max-runtime', { maxAttempts: 2 }, 1)).toEqual({ retry: false });
  });
  it('retries the classes the policy names', () => {
    expect(retryDecision('user', { maxAttempts: 1, on: ['user'] }, 1).retry).toBe(true);
    expect(retryDecision('platform', { maxAttempts: 1, on: ['user'] }, 1).retry).toBe(false);
  });
  it('never retries a stop', () => {
    expect(retryDecision('stopped', { maxAttempts: 3, on: ['platform', 'user', 'resources', 'max-runtime'] }, 1)).toEqual({ retry: false });
  });
  it('stops once every attempt is used, counting the first run', () => {
    const p = { maxAttempts: 2 };
    expect(totalAttempts(p)).toBe(3);
    expect(retryDecision('platform', p, 2).retry).toBe(true);
    expect(retryDecision('platform', p, 3)).toEqual({ retry: false });
  });
  it('doubles the backoff per attempt, up to a cap', () => {
    const p = { maxAttempts: 3 };
    const waits = [1, 2, 3].map((a) => {
      const d = retryDecision('platform', p, a, 1000);
      return d.retry ? d.backoffMs : null;
    });
    expect(waits).toEqual([1000, 2000, 4000]);
    const long = retryDecision('platform', p, 3, 300_000);
    expect(long.retry && long.backoffMs).toBe(600_000);
  });
});
