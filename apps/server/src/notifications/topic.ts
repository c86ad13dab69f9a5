import type { DeliveryState, JobStatus, NotificationEvent } from '@tc/contracts';

/** Records as the domain sees them; the secret is kept apart so no view can pick it up by accident. */
export interface SubscriptionRecord {
  id: number;
  url: string;
  createdAt: string;
}

export interface TopicRecord {
  name: string;
  description: string | null;
  subscriptions: SubscriptionRecord[];
  createdAt: string;
  secretRotatedAt: string;
  ownerId: number | null;
}

export interface NewDelivery {
  messageId: string;
  topic: string;
  subscriptionId: number;
  url: string;
  event: NotificationEvent;
  job: { id: number; name: string; version: string };
  body: string;
  createdAt: string;
}

/** A delivery the worker is about to attempt. */
export interface DueDelivery {
  id: number;
  messageId: string;
  topic: string;
  url: string;
  event: NotificationEvent;
  job: { id: number; name: string; version: string };
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

export interface AttemptRecord {
  attempt: number;
  at: string;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}

export interface DeliveryRecord {
  id: number;
  messageId: string;
  event: NotificationEvent;
  job: { name: string; version: string };
  url: string;
  state: DeliveryState;
  attempts: AttemptRecord[];
  nextAttemptAt: string | null;
  createdAt: string;
}

/** The job statuses that notify, and the event each one is. Stopped is the user's own doing. */
export const EVENT_OF_STATUS: Partial<Record<JobStatus, NotificationEvent>> = {
  Running: 'OnJobRunning',
  Successful: 'OnJobSucceeded',
  'Running failed': 'OnJobFailed',
};

/** The timeline's event type for everything notifications write there. */
export const NOTIFICATION_EVENT_TYPE = 'notification';

export interface RetryPolicy {
  /** Delay before the 2nd attempt; each later one doubles it. */
  baseMs: number;
  /** Ceiling of one delay. */
  maxDelayMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** How long one attempt may take, connect to last byte of the status line. */
  timeoutMs: number;
  /** How often the outbox is checked for due deliveries when nothing wakes the worker. */
  pollMs: number;
}

export function retryDelayMs(policy: RetryPolicy, attemptsMade: number): number {
  return Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.max(0, attemptsMade - 1));
}
