import type { DeliveryState, NotificationEvent } from '@tc/contracts';
import type { Db } from '../db/database.js';
import { listPage } from '../db/list-query.js';
import type { AttemptRecord, DeliveryRecord, DueDelivery, NewDelivery, SubscriptionRecord, TopicRecord } from './topic.js';

interface TopicRow {
  name: string;
  description: string | null;
  created_at: string;
  secret_rotated_at: string;
  owner_id: number | null;
}

interface SubscriptionRow {
  id: number;
  topic: string;
  url: string;
  created_at: string;
}

interface DeliveryRow {
  id: number;
  message_id: string;
  topic: string;
  url: string;
  event: string;
  job_id: number;
  job_name: string;
  job_version: string;
  body: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  created_at: string;
}

interface AttemptRow {
  delivery_id: number;
  attempt: number;
  at: string;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

const sub = (r: SubscriptionRow): SubscriptionRecord => ({ id: r.id, url: r.url, createdAt: r.created_at });

/** Topics, subscriptions and the delivery outbox. Secrets leave only through `secret()`. */
export class NotificationRepository {
  constructor(private readonly db: Db) {}

  /** Returns false when the name is taken. */
  createTopic(t: {
    name: string;
    description: string | null;
    secret: string;
    createdAt: string;
    urls: string[];
    ownerId: number;
  }): boolean {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO notification_topics (name, description, secret, created_at, secret_rotated_at, owner_id) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(t.name, t.description, t.secret, t.createdAt, t.createdAt, t.ownerId);
      const add = this.db.prepare('INSERT OR IGNORE INTO notification_subscriptions (topic, url, created_at) VALUES (?, ?, ?)');
      for (const url of t.urls) add.run(t.name, url, t.createdAt);
    });
    try {
      tx();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  getTopic(name: string): TopicRecord | null {
    const row = this.db.prepare<[string], TopicRow>('SELECT * FROM notification_topics WHERE name = ?').get(name);
    return row ? this.toTopic(row, this.subscriptionsOf([name])) : null;
  }

  listTopics(filter: { ownerId?: number; name?: string; limit: number; offset: number }): { items: TopicRecord[]; total: number } {
    const { rows, total } = listPage<TopicRow>(this.db, {
      table: 'notification_topics',
      filter,
      orderBy: 'created_at DESC, name',
      limit: filter.limit,
      offset: filter.offset,
    });
    const subs = this.subscriptionsOf(rows.map((r) => r.name));
    return { items: rows.map((r) => this.toTopic(r, subs)), total };
  }

  updateTopic(name: string, description: string | null): boolean {
    return this.db.prepare('UPDATE notification_topics SET description = ? WHERE name = ?').run(description, name).changes === 1;
  }

  /** Subscriptions and deliveries go with it (ON DELETE CASCADE); job timelines keep their lines. */
  deleteTopic(name: string): boolean {
    return this.db.prepare('DELETE FROM notification_topics WHERE name = ?').run(name).changes === 1;
  }

  secret(name: string): string | null {
    return this.db.prepare<[string], { secret: string }>('SELECT secret FROM notification_topics WHERE name = ?').get(name)?.secret ?? null;
  }

  rotateSecret(name: string, secret: string, at: string): boolean {
    return (
      this.db.prepare('UPDATE notification_topics SET secret = ?, secret_rotated_at = ? WHERE name = ?').run(secret, at, name).changes === 1
    );
  }

  /** null when the topic already has this URL. */
  addSubscription(topic: string, url: string, at: string): SubscriptionRecord | null {
    try {
      const info = this.db.prepare('INSERT INTO notification_subscriptions (topic, url, created_at) VALUES (?, ?, ?)').run(topic, url, at);
      return { id: Number(info.lastInsertRowid), url, createdAt: at };
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /** Pending deliveries to it are cancelled: nobody wants them any more. */
  removeSubscription(topic: string, id: number): boolean {
    return this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE notification_deliveries SET state = 'cancelled', next_attempt_at = NULL
           WHERE subscription_id = ? AND topic = ? AND state = 'pending'`,
        )
        .run(id, topic);
      return this.db.prepare('DELETE FROM notification_subscriptions WHERE id = ? AND topic = ?').run(id, topic).changes === 1;
    })();
  }

  /** Outbox rows, all or none, due at once. */
  enqueue(deliveries: NewDelivery[]): void {
    const insert = this.db.prepare(
      `INSERT INTO notification_deliveries
         (message_id, topic, subscription_id, url, event, job_id, job_name, job_version, body, state, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const d of deliveries) {
        insert.run(
          d.messageId,
          d.topic,
          d.subscriptionId,
          d.url,
          d.event,
          d.job.id,
          d.job.name,
          d.job.version,
          d.body,
          d.createdAt,
          d.createdAt,
        );
      }
    })();
  }

  /** Pending deliveries due at `now`, oldest first, except those in `skip`. */
  due(now: string, limit: number, skip: ReadonlySet<number>): DueDelivery[] {
    const rows = this.db
      .prepare<[string, number], DeliveryRow>(
        `SELECT * FROM notification_deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      )
      .all(now, limit + skip.size);
    return rows
      .filter((r) => !skip.has(r.id))
      .slice(0, limit)
      .map((r) => ({
        id: r.id,
        messageId: r.message_id,
        topic: r.topic,
        url: r.url,
        event: r.event as NotificationEvent,
        job: { id: r.job_id, name: r.job_name, version: r.job_version },
        body: r.body,
        attempts: r.attempts,
      }));
  }

  /** When the earliest pending delivery is due; null when none is pending. */
  nextDueAt(): string | null {
    return (
      this.db
        .prepare<[], { at: string | null }>(`SELECT MIN(next_attempt_at) AS at FROM notification_deliveries WHERE state = 'pending'`)
        .get()?.at ?? null
    );
  }

  /**
   * The attempt and the delivery's next state in one transaction. Only a still-pending row is
   * moved on, so an attempt that raced a cancellation does not revive it.
   */
  recordAttempt(id: number, a: AttemptRecord, next: { state: DeliveryState; nextAttemptAt: string | null }): void {
    this.db.transaction(() => {
      // Its topic was deleted while the attempt was in flight; the record went with it.
      if (!this.db.prepare<[number], { one: number }>('SELECT 1 AS one FROM notification_deliveries WHERE id = ?').get(id)) return;
      this.db
        .prepare('INSERT INTO notification_attempts (delivery_id, attempt, at, http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, a.attempt, a.at, a.httpStatus, a.error, a.durationMs);
      this.db
        .prepare(`UPDATE notification_deliveries SET attempts = ?, state = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending'`)
        .run(a.attempt, next.state, next.nextAttemptAt, id);
    })();
  }

  listDeliveries(
    topic: string,
    filter: { state?: DeliveryState; limit: number; offset: number },
  ): { items: DeliveryRecord[]; total: number } {
    const clause = filter.state ? 'WHERE topic = ? AND state = ?' : 'WHERE topic = ?';
    const args = filter.state ? [topic, filter.state] : [topic];
    const { n } = this.db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM notification_deliveries ${clause}`).get(...args)!;
    const rows = this.db
      .prepare<unknown[], DeliveryRow>(`SELECT * FROM notification_deliveries ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...args, filter.limit, filter.offset);
    const attempts = new Map<number, AttemptRecord[]>();
    if (rows.length) {
      const marks = rows.map(() => '?').join(',');
      const all = this.db
        .prepare<unknown[], AttemptRow>(`SELECT * FROM notification_attempts WHERE delivery_id IN (${marks}) ORDER BY delivery_id, attempt`)
        .all(...rows.map((r) => r.id));
      for (const a of all) {
        const list = attempts.get(a.delivery_id) ?? [];
        list.push({ attempt: a.attempt, at: a.at, httpStatus: a.http_status, error: a.error, durationMs: a.duration_ms });
        attempts.set(a.delivery_id, list);
      }
    }
    return {
      items: rows.map((r) => ({
        id: r.id,
        messageId: r.message_id,
        event: r.event as NotificationEvent,
        job: { name: r.job_name, version: r.job_version },
        url: r.url,
        state: r.state as DeliveryState,
        attempts: attempts.get(r.id) ?? [],
        nextAttemptAt: r.next_attempt_at,
        createdAt: r.created_at,
      })),
      total: n,
    };
  }

  private subscriptionsOf(topics: string[]): Map<string, SubscriptionRecord[]> {
    const out = new Map<string, SubscriptionRecord[]>();
    if (!topics.length) return out;
    const marks = topics.map(() => '?').join(',');
    const rows = this.db
      .prepare<unknown[], SubscriptionRow>(`SELECT * FROM notification_subscriptions WHERE topic IN (${marks}) ORDER BY id`)
      .all(...topics);
    for (const r of rows) {
      const list = out.get(r.topic) ?? [];
      list.push(sub(r));
      out.set(r.topic, list);
    }
    return out;
  }

  private toTopic(r: TopicRow, subs: Map<string, SubscriptionRecord[]>): TopicRecord {
    return {
      name: r.name,
      description: r.description,
      subscriptions: subs.get(r.name) ?? [],
      createdAt: r.created_at,
      secretRotatedAt: r.secret_rotated_at,
      ownerId: r.owner_id,
    };
  }
}
