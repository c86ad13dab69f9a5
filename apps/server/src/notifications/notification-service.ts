import { randomUUID } from 'node:crypto';
import type {
  AddSubscriptionRequest,
  CreateNotificationTopicRequest,
  CreateTrainingJobRequest,
  CreatedNotificationTopic,
  ListDeliveriesQuery,
  ListNotificationTopicsQuery,
  NotificationDeliveryList,
  NotificationEvent,
  NotificationMessage,
  NotificationSubscription,
  NotificationTopic,
  NotificationTopicList,
  NotificationTopicSecret,
  UpdateNotificationTopicRequest,
} from '@tc/contracts';
import type { JobRepository, JobTransition } from '../jobs/job-repository.js';
import type { JobRecord } from '../jobs/job.js';
import type { NotificationRepository } from './notification-repository.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { newTopicSecret } from './signature.js';
import { canAccess, ownerScope, type Actor } from '../accounts/actor.js';
import { EVENT_OF_STATUS, NOTIFICATION_EVENT_TYPE, type SubscriptionRecord, type TopicRecord } from './topic.js';
import type { WebhookAddressPolicy } from './address-policy.js';

export interface NotificationServiceDeps {
  topics: NotificationRepository;
  jobs: Pick<JobRepository, 'addEvent'>;
  /** Which webhook targets may be subscribed (internal addresses only when listed). */
  addresses: Pick<WebhookAddressPolicy, 'subscriptionProblem'>;
  /** PUBLIC_URL, for the job's link in each message. */
  publicUrl: string;
  /** Called after deliveries were queued, so they go out now rather than at the next poll. */
  queued(): void;
  log: { warn(obj: object, msg: string): void };
}

function subscriptionView(s: SubscriptionRecord): NotificationSubscription {
  return { id: String(s.id), url: s.url, createdAt: s.createdAt };
}

function topicView(t: TopicRecord): NotificationTopic {
  return {
    name: t.name,
    description: t.description,
    subscriptions: t.subscriptions.map(subscriptionView),
    createdAt: t.createdAt,
    secretRotatedAt: t.secretRotatedAt,
  };
}

/** Notification topics (SMN-like), their webhooks, and the outbox fed by job status changes. */
export class NotificationService {
  constructor(private readonly d: NotificationServiceDeps) {}

  list(actor: Actor, q: ListNotificationTopicsQuery): NotificationTopicList {
    const { items, total } = this.d.topics.listTopics({
      ownerId: ownerScope(actor),
      name: q.name,
      limit: q.pageSize,
      offset: (q.page - 1) * q.pageSize,
    });
    return { items: items.map(topicView), total };
  }

  get(actor: Actor, name: string): NotificationTopic {
    return topicView(this.find(actor, name));
  }

  /** The only answer, with rotate, that carries the secret. */
  async create(actor: Actor, req: CreateNotificationTopicRequest): Promise<CreatedNotificationTopic> {
    await this.checkTargets((req.subscriptions ?? []).map((s, i) => ({ path: `subscriptions.${i}.url`, url: s.url })));
    const secret = newTopicSecret();
    const ok = this.d.topics.createTopic({
      name: req.name,
      description: req.description ?? null,
      secret,
      createdAt: new Date().toISOString(),
      urls: (req.subscriptions ?? []).map((s) => s.url),
      ownerId: actor.userId,
    });
    if (!ok) throw new ConflictError(`a notification topic named ${req.name} already exists`);
    return { ...this.get(actor, req.name), secret };
  }

  update(actor: Actor, name: string, req: UpdateNotificationTopicRequest): NotificationTopic {
    this.find(actor, name);
    if (!this.d.topics.updateTopic(name, req.description ?? null)) throw this.notFound(name);
    return this.get(actor, name);
  }

  delete(actor: Actor, name: string): void {
    this.find(actor, name);
    if (!this.d.topics.deleteTopic(name)) throw this.notFound(name);
  }

  /** The old secret stops working at once: pending retries are signed with the new one. */
  rotateSecret(actor: Actor, name: string): NotificationTopicSecret {
    this.find(actor, name);
    const secret = newTopicSecret();
    const at = new Date().toISOString();
    if (!this.d.topics.rotateSecret(name, secret, at)) throw this.notFound(name);
    return { secret, secretRotatedAt: at };
  }

  async addSubscription(actor: Actor, name: string, req: AddSubscriptionRequest): Promise<NotificationSubscription> {
    this.find(actor, name);
    await this.checkTargets([{ path: 'url', url: req.url }]);
    // Looked up again: the topic may have gone while the host name was being resolved.
    this.find(actor, name);
    const added = this.d.topics.addSubscription(name, req.url, new Date().toISOString());
    if (!added) throw new ConflictError(`topic ${name} already has a subscription to ${req.url}`);
    return subscriptionView(added);
  }

  removeSubscription(actor: Actor, name: string, id: string): void {
    this.find(actor, name);
    if (!this.d.topics.removeSubscription(name, Number(id))) throw new NotFoundError(`topic ${name} has no subscription ${id}`);
  }

  deliveries(actor: Actor, name: string, q: ListDeliveriesQuery): NotificationDeliveryList {
    this.find(actor, name);
    const { items, total } = this.d.topics.listDeliveries(name, { state: q.state, limit: q.pageSize, offset: (q.page - 1) * q.pageSize });
    return {
      items: items.map((d) => ({ ...d, id: String(d.id), attempts: d.attempts })),
      total,
    };
  }

  /** A JobService create hook: a job may only name a topic that exists and the user may use. */
  check(req: CreateTrainingJobRequest, actor: Actor): void {
    const topic = req.notification?.topic;
    const found = topic ? this.d.topics.getTopic(topic) : null;
    if (topic && (!found || !canAccess(actor, found.ownerId))) {
      throw new InvalidInputError([
        { path: 'notification.topic', message: `notification topic ${topic} does not exist; create it under Notification topics first` },
      ]);
    }
  }

  /**
   * JobRepository.onTransition listener: writes one outbox row per subscription, right as the
   * change is observed, so the message survives a restart that comes before it is sent.
   */
  onTransition(t: JobTransition): void {
    const event = EVENT_OF_STATUS[t.to];
    if (event) this.notify(t.job, event);
  }

  /** The job's stall watchdog fired: OnJobStalled to its topic, when it subscribed to it. */
  onStalled(job: JobRecord): void {
    this.notify(job, 'OnJobStalled');
  }

  private notify(job: JobRecord, event: NotificationEvent): void {
    try {
      this.enqueue(job, event);
    } catch (err) {
      this.d.log.warn({ err, jobId: job.id }, 'could not queue the job notification');
    }
  }

  private enqueue(job: JobRecord, event: NotificationEvent): void {
    const wanted = job.spec.notification;
    if (!wanted || wanted.topic === '' || !wanted.events.includes(event)) return;
    const topic = this.d.topics.getTopic(wanted.topic);
    if (!topic) {
      this.d.jobs.addEvent(job.id, NOTIFICATION_EVENT_TYPE, `notification ${event} not sent: topic ${wanted.topic} no longer exists`);
      return;
    }
    if (!topic.subscriptions.length) {
      this.d.jobs.addEvent(job.id, NOTIFICATION_EVENT_TYPE, `notification ${event} not sent: topic ${topic.name} has no subscriptions`);
      return;
    }
    const now = new Date().toISOString();
    const message: NotificationMessage = {
      messageId: randomUUID(),
      event,
      topic: topic.name,
      job: {
        name: job.name,
        version: job.version,
        status: job.status,
        reason: job.reason,
        failureClass: job.failureClass,
        createdAt: job.createdAt,
        startedAt: job.startedAt,
        endedAt: job.endedAt,
        attempt: job.attempt,
        maxAttempts: 1 + (job.spec.retry?.maxAttempts ?? 0),
        url: `${this.d.publicUrl.replace(/\/+$/, '')}/jobs/${encodeURIComponent(job.name)}/${job.version}`,
      },
      occurredAt: now,
    };
    const body = JSON.stringify(message);
    this.d.topics.enqueue(
      topic.subscriptions.map((s) => ({
        messageId: message.messageId,
        topic: topic.name,
        subscriptionId: s.id,
        url: s.url,
        event,
        job: { id: job.id, name: job.name, version: job.version },
        body,
        createdAt: now,
      })),
    );
    const n = topic.subscriptions.length;
    this.d.jobs.addEvent(
      job.id,
      NOTIFICATION_EVENT_TYPE,
      `notification ${event} queued for ${n} subscription${n === 1 ? '' : 's'} of topic ${topic.name}`,
    );
    this.d.queued();
  }

  /** Internal addresses are refused here and again at each delivery (names can resolve elsewhere later). */
  private async checkTargets(targets: { path: string; url: string }[]): Promise<void> {
    const problems = await Promise.all(
      targets.map(async (t) => ({ path: t.path, message: await this.d.addresses.subscriptionProblem(t.url) })),
    );
    const fields = problems.flatMap((p) => (p.message === null ? [] : [{ path: p.path, message: p.message }]));
    if (fields.length) throw new InvalidInputError(fields);
  }

  private find(actor: Actor, name: string): TopicRecord {
    const t = this.d.topics.getTopic(name);
    if (!t || !canAccess(actor, t.ownerId)) throw this.notFound(name);
    return t;
  }

  private notFound(name: string): NotFoundError {
    return new NotFoundError(`notification topic ${name} does not exist`);
  }
}
