import { describe, expect, it } from 'vitest';
import type { CreateTrainingJobRequest, JobStatus, NotificationEvent, NotificationMessage } from '@tc/contracts';
import { tempDatabase } from '../../test/support/temp-database.js';
import type { Actor } from '../accounts/actor.js';
import { JobRepository } from '../jobs/job-repository.js';
import { NotificationRepository } from './notification-repository.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import { NotificationService } from './notification-service.js';

const alice: Actor = { userId: 1, username: 'alice', admin: false };
const bob: Actor = { userId: 2, username: 'bob', admin: false };
const admin: Actor = { userId: 3, username: 'root', admin: true };

const HOOK_A = 'https://hooks.example.com/a';
const HOOK_B = 'https://hooks.example.com/b';

function setUp() {
  const db = tempDatabase();
  const topics = new NotificationRepository(db);
  const jobs = new JobRepository(db);
  const warnings: string[] = [];
  let wakes = 0;
  const service = new NotificationService({
    topics,
    jobs,
    // The address policy is its own unit (DNS, allow-list); here it refuses one recognizable host.
    addresses: { subscriptionProblem: async (url) => (url.includes('internal') ? 'internal address' : null) },
    publicUrl: 'https://console.example.com/',
    queued: () => void (wakes += 1),
    log: { warn: (_obj, msg) => void warnings.push(msg) },
  });
  jobs.onTransition((t) => service.onTransition(t));

  const at = '2026-01-01T00:00:00.000Z';
  const topic = (name: string, urls: string[], ownerId = alice.userId) =>
    topics.createTopic({ name, description: null, secret: 's', createdAt: at, urls, ownerId });
  const job = (notification?: { topic: string; events: NotificationEvent[] }) => {
    const spec = { name: 'linreg', notification } as CreateTrainingJobRequest;
    return jobs.createWithNextVersion({
      name: 'linreg',
      description: null,
      spec,
      poolId: 'public',
      flavorId: 'cpu.1u2g',
      nodeCount: 1,
      hostnames: (v) => [`linreg-${v}-0`],
      createdAt: at,
      ownerId: alice.userId,
    });
  };
  /** Runs the job through the statuses, as the runner does. */
  const move = (id: number, ...path: JobStatus[]) => {
    let from = jobs.getById(id)!.status;
    for (const to of path) {
      expect(jobs.transition(id, from, to, { startedAt: to === 'Running' ? at : undefined })).toBe(true);
      from = to;
    }
  };
  const outbox = () =>
    db.prepare('SELECT message_id AS messageId, url, event, body FROM notification_deliveries ORDER BY id').all() as {
      messageId: string;
      url: string;
      event: string;
      body: string;
    }[];
  const timeline = (id: number) => jobs.events(id).map((e) => e.message);
  return { db, topics, jobs, service, topic, job, move, outbox, timeline, warnings, wakes: () => wakes };
}

const ALL: NotificationEvent[] = ['OnJobRunning', 'OnJobSucceeded', 'OnJobFailed'];

describe('NotificationService.onTransition: which changes notify', () => {
  it('maps Running, Successful and Running failed to their events; the other statuses send nothing', () => {
    const { topic, job, move, outbox } = setUp();
    topic('ops', [HOOK_A]);
    const ok = job({ topic: 'ops', events: ALL });
    move(ok.id, 'Initializing', 'Running', 'Successful');
    const failed = job({ topic: 'ops', events: ALL });
    move(failed.id, 'Initializing', 'Running', 'Running failed');
    const stopped = job({ topic: 'ops', events: ALL });
    move(stopped.id, 'Initializing', 'Running', 'Stopping', 'Stopped');
    const stoppedQueued = job({ topic: 'ops', events: ALL });
    move(stoppedQueued.id, 'Stopped');
    expect(outbox().map((r) => r.event)).toEqual(['OnJobRunning', 'OnJobSucceeded', 'OnJobRunning', 'OnJobFailed', 'OnJobRunning']);
  });

  it('sends only the events the job subscribed to', () => {
    const { topic, job, move, outbox } = setUp();
    topic('ops', [HOOK_A]);
    const j = job({ topic: 'ops', events: ['OnJobFailed'] });
    move(j.id, 'Initializing', 'Running', 'Successful');
    const f = job({ topic: 'ops', events: ['OnJobFailed'] });
    move(f.id, 'Initializing', 'Running', 'Running failed');
    expect(outbox().map((r) => r.event)).toEqual(['OnJobFailed']);
  });

  it('sends nothing for a job without a notification, or with the topic switched off', () => {
    const { topic, job, move, outbox, wakes } = setUp();
    topic('ops', [HOOK_A]);
    move(job().id, 'Initializing', 'Running');
    move(job({ topic: '', events: ALL }).id, 'Initializing', 'Running');
    expect(outbox()).toEqual([]);
    expect(wakes()).toBe(0);
  });

  it('writes one outbox row per subscription, one message, and wakes the worker once', () => {
    const { topic, job, move, outbox, timeline, wakes } = setUp();
    topic('ops', [HOOK_A, HOOK_B]);
    const j = job({ topic: 'ops', events: ['OnJobRunning'] });
    move(j.id, 'Initializing', 'Running');
    const rows = outbox();
    expect(rows.map((r) => r.url)).toEqual([HOOK_A, HOOK_B]);
    expect(new Set(rows.map((r) => r.messageId)).size).toBe(1);
    const message = JSON.parse(rows[0]!.body) as NotificationMessage;
    expect(message).toMatchObject({
      messageId: rows[0]!.messageId,
      event: 'OnJobRunning',
      topic: 'ops',
      job: { name: 'linreg', version: 'V001', status: 'Running', startedAt: '2026-01-01T00:00:00.000Z' },
    });
    // PUBLIC_URL's trailing slash is not doubled.
    expect(message.job.url).toBe('https://console.example.com/jobs/linreg/V001');
    expect(wakes()).toBe(1);
    expect(timeline(j.id)).toEqual(['notification OnJobRunning queued for 2 subscriptions of topic ops']);
  });

  it('records on the timeline why nothing was sent: topic gone, or no subscriptions', () => {
    const { topic, topics, job, move, outbox, timeline, wakes } = setUp();
    topic('ops', []);
    const empty = job({ topic: 'ops', events: ['OnJobRunning'] });
    move(empty.id, 'Initializing', 'Running');
    topic('gone', [HOOK_A]);
    const orphan = job({ topic: 'gone', events: ['OnJobRunning'] });
    topics.deleteTopic('gone');
    move(orphan.id, 'Initializing', 'Running');
    expect(outbox()).toEqual([]);
    expect(wakes()).toBe(0);
    expect(timeline(empty.id)).toEqual(['notification OnJobRunning not sent: topic ops has no subscriptions']);
    expect(timeline(orphan.id)).toEqual(['notification OnJobRunning not sent: topic gone no longer exists']);
  });

  it('logs a failed outbox write and never blocks the status change', () => {
    const { db, topic, job, move, jobs, warnings } = setUp();
    topic('ops', [HOOK_A]);
    const j = job({ topic: 'ops', events: ['OnJobRunning'] });
    db.exec('DROP TABLE notification_attempts; DROP TABLE notification_deliveries');
    move(j.id, 'Initializing', 'Running');
    expect(jobs.getById(j.id)!.status).toBe('Running');
    expect(warnings).toEqual(['could not queue the job notification']);
  });
});

describe('NotificationService: topics', () => {
  it('refuses internal webhook targets, naming each field, and creates nothing', async () => {
    const { service, topics } = setUp();
    const err = await service
      .create(alice, { name: 'ops', subscriptions: [{ url: HOOK_A }, { url: 'http://internal/x' }] })
      .catch((e: unknown) => e);
    expect((err as InvalidInputError).fields).toEqual([{ path: 'subscriptions.1.url', message: 'internal address' }]);
    expect(topics.getTopic('ops')).toBeNull();
  });

  it('returns the secret once, at create; a taken name is a 409', async () => {
    const { service } = setUp();
    const made = await service.create(alice, { name: 'ops', subscriptions: [{ url: HOOK_A }] });
    expect(made.secret.length).toBeGreaterThan(16);
    expect(service.get(alice, 'ops')).not.toHaveProperty('secret');
    await expect(service.create(bob, { name: 'ops' })).rejects.toBeInstanceOf(ConflictError);
  });

  it("answers another user's topic as not found; an admin reaches it", async () => {
    const { service } = setUp();
    await service.create(alice, { name: 'ops' });
    expect(() => service.get(bob, 'ops')).toThrow(NotFoundError);
    expect(() => service.delete(bob, 'ops')).toThrow(NotFoundError);
    expect(() => service.rotateSecret(bob, 'ops')).toThrow(NotFoundError);
    await expect(service.addSubscription(bob, 'ops', { url: HOOK_B })).rejects.toBeInstanceOf(NotFoundError);
    expect(service.get(admin, 'ops').name).toBe('ops');
  });

  it('as a create hook, accepts only a topic the user may use, or none', () => {
    const { service, topic } = setUp();
    topic('alices', [HOOK_A], alice.userId);
    const req = (t: string) => ({ notification: { topic: t, events: ['OnJobRunning'] } }) as CreateTrainingJobRequest;
    expect(() => service.check(req('alices'), alice)).not.toThrow();
    expect(() => service.check(req('alices'), admin)).not.toThrow();
    expect(() => service.check(req(''), bob)).not.toThrow();
    expect(() => service.check(req('alices'), bob)).toThrow(InvalidInputError);
    expect(() => service.check(req('missing'), alice)).toThrow(InvalidInputError);
  });
});
