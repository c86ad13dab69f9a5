import type { Actor } from '../../src/accounts/actor.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest } from '@tc/contracts';
import { openDatabase, type Db } from '../../src/db/database.js';
import { JobRepository } from '../../src/jobs/job-repository.js';
import { NotificationRepository } from '../../src/notifications/notification-repository.js';
import { DeliveryWorker } from '../../src/notifications/delivery-worker.js';
import { NotificationService } from '../../src/notifications/notification-service.js';
import { retryDelayMs, type RetryPolicy } from '../../src/notifications/topic.js';
import { HttpWebhookSender } from '../../src/notifications/webhook-sender.js';
import { WebhookAddressPolicy } from '../../src/notifications/address-policy.js';
import { verifySignature } from '../../src/notifications/signature.js';
import { waitFor } from '../support/console.js';
import { startReceiver, type Receiver } from './receiver.js';

/** No accounts in this test: the repositories are used directly, as an admin would. */
const admin: Actor = { userId: 1, username: 'admin', admin: true };

/** The outbox without HTTP routes or Docker: real SQLite, real webhooks, jobs moved by hand. */
let dir: string;
let db: Db;
let jobs: JobRepository;
let topics: NotificationRepository;
let service: NotificationService;
let receiver: Receiver;
const workers: DeliveryWorker[] = [];
const quiet = { warn: () => undefined };
const policy: RetryPolicy = { baseMs: 50, maxDelayMs: 1000, maxAttempts: 5, timeoutMs: 1000, pollMs: 20 };
/** The receiver is on loopback, which webhooks reach only when allowed. */
const addresses = new WebhookAddressPolicy(['127.0.0.1']);

function worker(): DeliveryWorker {
  const w = new DeliveryWorker({ outbox: topics, jobs, sender: new HttpWebhookSender(addresses), retry: policy, log: quiet });
  workers.push(w);
  return w;
}

let n = 0;
function job(topic: string) {
  const spec = {
    name: `outbox-${++n}`,
    algorithm: { source: 'custom', imagePath: 'x:1', codeDir: 'obs://bkt/code/', bootCommand: 'true' },
    data: { source: 'path', path: 'obs://bkt/data/' },
    trainOutput: 'obs://bkt/out/',
    notification: { topic, events: ['OnJobRunning', 'OnJobSucceeded'] },
  } as CreateTrainingJobRequest;
  const created = jobs.createWithNextVersion({
    name: spec.name,
    description: null,
    spec,
    poolId: 'public',
    flavorId: 'cpu.1u2g',
    nodeCount: 1,
    hostnames: () => ['h-0'],
    createdAt: new Date().toISOString(),
    ownerId: admin.userId,
  });
  expect(jobs.transition(created.id, 'Queuing', 'Initializing')).toBe(true);
  return created;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tc-outbox-'));
  db = openDatabase(path.join(dir, 'console.db'));
  jobs = new JobRepository(db);
  topics = new NotificationRepository(db);
  service = new NotificationService({ topics, jobs, addresses, publicUrl: 'http://localhost:8080', queued: () => undefined, log: quiet });
  jobs.onTransition((t) => service.onTransition(t));
  receiver = await startReceiver();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await receiver?.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the outbox', () => {
  it('holds the message from the moment the status changes, before any worker runs', async () => {
    const { secret } = await service.create(admin, { name: 'direct', subscriptions: [{ url: receiver.url }] });
    expect(secret).toBeTruthy();
    const j = job('direct');
    expect(jobs.transition(j.id, 'Initializing', 'Running', { startedAt: new Date().toISOString() })).toBe(true);
    const [d] = topics.listDeliveries('direct', { limit: 10, offset: 0 }).items;
    expect(d).toMatchObject({ state: 'pending', event: 'OnJobRunning', attempts: [], job: { name: j.name, version: 'V001' } });
    expect(receiver.received).toEqual([]);
  });

  it('sends what is due once a worker starts, signed with the topic secret', async () => {
    const secret = service.rotateSecret(admin, 'direct').secret;
    worker().start();
    await waitFor('the delivery', async () => receiver.received.length === 1);
    const got = receiver.received[0]!;
    expect(
      verifySignature(
        secret,
        { signature: String(got.headers['x-tc-signature']), timestamp: String(got.headers['x-tc-timestamp']) },
        got.body,
      ),
    ).toBe(true);
    await waitFor('the record', async () => topics.listDeliveries('direct', { limit: 1, offset: 0 }).items[0]!.state === 'delivered');
  });

  it('cancels pending deliveries to a subscription that is removed', async () => {
    receiver.respond = () => 500;
    const t = await service.create(admin, { name: 'cancel', subscriptions: [{ url: receiver.url }] });
    const j = job('cancel');
    jobs.transition(j.id, 'Initializing', 'Running');
    worker().start();
    await waitFor('a failed attempt', async () => topics.listDeliveries('cancel', { limit: 1, offset: 0 }).items[0]!.attempts.length >= 1);
    service.removeSubscription(admin, 'cancel', t.subscriptions[0]!.id);
    const d = await waitFor('the cancellation', async () => {
      const x = topics.listDeliveries('cancel', { limit: 1, offset: 0 }).items[0]!;
      return x.state === 'cancelled' ? x : null;
    });
    expect(d.nextAttemptAt).toBeNull();
    receiver.respond = () => 200;
  });

  it('still delivers for a job deleted meanwhile, without writing on another job’s timeline', async () => {
    await service.create(admin, { name: 'orphan', subscriptions: [{ url: receiver.url }] });
    const j = job('orphan');
    jobs.transition(j.id, 'Initializing', 'Running');
    jobs.transition(j.id, 'Running', 'Successful', { endedAt: new Date().toISOString() });
    jobs.delete(j.id);
    worker().start();
    await waitFor('both deliveries', async () =>
      topics.listDeliveries('orphan', { limit: 10, offset: 0 }).items.every((d) => d.state === 'delivered'),
    );
    expect(jobs.events(j.id)).toEqual([]);
  });

  it('doubles the delay per attempt up to the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(policy, a))).toEqual([50, 100, 200, 400, 800, 1000]);
  });
});
