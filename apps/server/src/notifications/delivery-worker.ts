import type { NotificationRepository } from './notification-repository.js';
import type { JobRepository } from '../jobs/job-repository.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signature } from './signature.js';
import { NOTIFICATION_EVENT_TYPE, retryDelayMs, type DueDelivery, type RetryPolicy } from './topic.js';
import { describeSendError, sendErrorDetail, type WebhookSender } from './webhook-sender.js';

export interface DeliveryWorkerDeps {
  outbox: Pick<NotificationRepository, 'due' | 'nextDueAt' | 'recordAttempt' | 'secret'>;
  jobs: Pick<JobRepository, 'getById' | 'addEvent'>;
  sender: WebhookSender;
  retry: RetryPolicy;
  log: { warn(obj: object, msg: string): void };
}

/** Deliveries attempted at once; a slow receiver must not hold up every other one. */
const BATCH = 8;

/**
 * Drains the outbox: every due delivery is POSTed, each attempt recorded with the next one
 * scheduled (exponential backoff) in the same transaction. All state is in SQLite, so a new
 * process simply carries on where the last one stopped; an attempt cut short by a shutdown is
 * not recorded and is made again (at least once, never "at most once").
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Rows the last round could not attempt; until the next poll they are not worth waking for. */
  private skipped = false;
  private stopped = true;
  private shutdown = new AbortController();

  constructor(private readonly d: DeliveryWorkerDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.shutdown = new AbortController();
    this.wake();
  }

  /** Looks at the outbox now, e.g. right after a delivery was queued. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.drain()
      .catch((err: unknown) => this.d.log.warn({ err }, 'notification delivery round failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.schedule();
        }
      });
  }

  /** Stops polling and abandons attempts in flight (they stay due, for the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.shutdown.abort();
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const next = this.skipped ? null : this.d.outbox.nextDueAt();
    const wait = next === null ? this.d.retry.pollMs : Math.max(0, Math.min(this.d.retry.pollMs, Date.parse(next) - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, wait);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    // Rows that made no progress this round (no attempt recorded), so the loop cannot spin on them.
    const skip = new Set<number>();
    for (;;) {
      const due = this.stopped ? [] : this.d.outbox.due(new Date().toISOString(), BATCH, skip);
      if (!due.length) break;
      await Promise.all(
        due.map(async (delivery) => {
          if (!(await this.attempt(delivery))) skip.add(delivery.id);
        }),
      );
    }
    this.skipped = skip.size > 0;
  }

  /** Whether an attempt was made and recorded. */
  private async attempt(delivery: DueDelivery): Promise<boolean> {
    const secret = this.d.outbox.secret(delivery.topic);
    // The topic was deleted after the query: its deliveries went with it.
    if (secret === null) return false;
    const attempt = delivery.attempts + 1;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'training-console-notifications/1',
      'x-tc-event': delivery.event,
      'x-tc-message-id': delivery.messageId,
      'x-tc-delivery': String(delivery.id),
      'x-tc-attempt': String(attempt),
      [TIMESTAMP_HEADER.toLowerCase()]: String(timestamp),
      [SIGNATURE_HEADER.toLowerCase()]: signature(secret, timestamp, delivery.body),
    };
    const at = new Date();
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.d.retry.timeoutMs)]);
      httpStatus = await this.d.sender.post(delivery.url, delivery.body, headers, signal);
      if (httpStatus >= 300 && httpStatus <= 399) error = `HTTP ${httpStatus} (redirects are not followed)`;
      else if (httpStatus < 200 || httpStatus > 299) error = `HTTP ${httpStatus}`;
    } catch (err) {
      if (this.shutdown.signal.aborted) return false;
      error = describeSendError(err, this.d.retry.timeoutMs);
      // The socket's own words stay with the operator: users see only `error` (see describeSendError).
      this.d.log.warn(
        { deliveryId: delivery.id, url: delivery.url, attempt, detail: sendErrorDetail(err) },
        `webhook attempt failed: ${error}`,
      );
    }
    const durationMs = Math.max(0, Math.round(Date.now() - at.getTime()));
    const delivered = error === null;
    const giveUp = !delivered && attempt >= this.d.retry.maxAttempts;
    const delay = retryDelayMs(this.d.retry, attempt);
    this.d.outbox.recordAttempt(
      delivery.id,
      { attempt, at: at.toISOString(), httpStatus, error, durationMs },
      {
        state: delivered ? 'delivered' : giveUp ? 'failed' : 'pending',
        nextAttemptAt: delivered || giveUp ? null : new Date(Date.now() + delay).toISOString(),
      },
    );

    const outcome = delivered ? `delivered (${httpStatus})` : `failed (${error})`;
    const then = delivered ? '' : giveUp ? '; giving up' : `; next attempt in ${formatDelay(delay)}`;
    this.timeline(delivery, `notification ${delivery.event} to ${delivery.url} ${outcome} on attempt ${attempt}${then}`);
    return true;
  }

  /**
   * Job ids can be reused once a job is deleted (INTEGER PRIMARY KEY), so the line goes to the
   * job only if it is still the same name and version.
   */
  private timeline(delivery: DueDelivery, message: string): void {
    const job = this.d.jobs.getById(delivery.job.id);
    if (job && job.name === delivery.job.name && job.version === delivery.job.version) {
      this.d.jobs.addEvent(job.id, NOTIFICATION_EVENT_TYPE, message);
    }
  }
}

function formatDelay(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
