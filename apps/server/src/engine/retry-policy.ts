import { DEFAULT_RETRY_ON, type FailureClass, type RetryPolicy } from '@tc/contracts';

/** The first retry waits this long by default (RETRY_BACKOFF_SECONDS); each next one twice as long. */
export const DEFAULT_RETRY_BACKOFF_SECONDS = 30;
/** No backoff grows past this, whatever the base. */
const MAX_BACKOFF_MS = 10 * 60_000;

export type RetryDecision = { retry: false } | { retry: true; nextAttempt: number; of: number; backoffMs: number };

/** How many attempts the job may have in all: the first run and its retries. */
export function totalAttempts(policy: RetryPolicy | undefined): number {
  return 1 + (policy?.maxAttempts ?? 0);
}

/**
 * Whether a failed attempt runs again: its class is one the policy retries (platform only
 * unless `on` says otherwise; a stop never), and retries are left. The backoff doubles with
 * each attempt: a host that is away is given longer each time.
 */
export function retryDecision(
  failureClass: FailureClass,
  policy: RetryPolicy | undefined,
  attempt: number,
  backoffBaseMs: number = DEFAULT_RETRY_BACKOFF_SECONDS * 1000,
): RetryDecision {
  if (!policy || failureClass === 'stopped') return { retry: false };
  const on = policy.on ?? DEFAULT_RETRY_ON;
  const of = totalAttempts(policy);
  if (!on.includes(failureClass) || attempt >= of) return { retry: false };
  const backoffMs = Math.min(MAX_BACKOFF_MS, backoffBaseMs * 2 ** (attempt - 1));
  return { retry: true, nextAttempt: attempt + 1, of, backoffMs };
}
