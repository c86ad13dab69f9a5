import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDelivery } from '@tc/contracts';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { jobRequest } from '../support/jobs.js';
import { uploadText, waitFor } from '../support/console.js';
import { RestartableConsole, type OpenedConsole } from '../support/restartable-console.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * Two consoles, one after the other, over the same DATA_DIR: what a restart is. The object store
 * and the engine outlive both, as they do in production.
 */
let consoles: RestartableConsole;
let rootImage: string;
let receiver: Receiver;

const open = (): Promise<OpenedConsole> =>
  consoles.open({
    NOTIFY_RETRY_BASE_MS: '200',
    NOTIFY_MAX_ATTEMPTS: '20',
    NOTIFY_POLL_MS: '50',
    // The receiver listens on loopback, which webhooks reach only when allowed.
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
const close = (c: OpenedConsole): Promise<void> => consoles.close(c);

async function deliveries(c: OpenedConsole): Promise<NotificationDelivery[]> {
  return (await c.app.inject({ url: '/api/v1/notification-topics/restart/deliveries' })).json().items;
}

beforeAll(async () => {
  consoles = await RestartableConsole.create('tc-notify-restart-', { from: 19700, count: 200 });
  const { store } = consoles;
  [rootImage] = await Promise.all([buildTestImage('root'), uploadText(store, 'jobs', { 'code/run.sh': 'true', 'data/a.txt': 'A' })]);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await consoles?.dispose();
  await removeTestContainers();
  await removeTestImages();
});

describe('the delivery outbox across a restart', () => {
  it('keeps retrying after the console is closed mid-retry and a new one opens the same database', async () => {
    let accepting = false;
    receiver.respond = () => (accepting ? 204 : 500);

    const first = await open();
    const created = await first.app.inject({
      method: 'POST',
      url: '/api/v1/notification-topics',
      payload: { name: 'restart', subscriptions: [{ url: receiver.url }] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const job = await first.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('notify-restart', rootImage, 'true', { notification: { topic: 'restart', events: ['OnJobFailed'] } }),
    });
    expect(job.statusCode, job.body).toBe(201);

    const before = await waitFor('two failed attempts', async () => {
      const [d] = await deliveries(first);
      return d && d.attempts.length >= 2 ? d : null;
    });
    await close(first);
    expect(before.state).toBe('pending');
    const attemptsBefore = receiver.received.length;

    // While nobody runs, nothing is sent; then the receiver recovers and a new console starts.
    accepting = true;
    const second = await open();
    try {
      const [after] = await waitFor('the delivery to complete in the new console', async () => {
        const items = await deliveries(second);
        return items[0]?.state === 'delivered' ? items : null;
      });
      expect(after!.id).toBe(before.id);
      // Numbering continues: the new process picks the row up, it does not start over.
      expect(after!.attempts.map((a) => a.attempt)).toEqual(after!.attempts.map((_, i) => i + 1));
      expect(after!.attempts.length).toBeGreaterThan(before.attempts.length);
      expect(after!.attempts.at(-1)).toMatchObject({ httpStatus: 204, error: null });
      expect(receiver.received.length).toBeGreaterThan(attemptsBefore);
      expect(new Set(receiver.received.map((g) => g.body)).size).toBe(1);

      const timeline = (await second.app.inject({ url: '/api/v1/training-jobs/notify-restart/versions/V001' }))
        .json()
        .events.filter((e: { type: string }) => e.type === 'notification')
        .map((e: { message: string }) => e.message);
      expect(timeline.at(-1)).toBe(`notification OnJobFailed to ${receiver.url} delivered (204) on attempt ${after!.attempts.length}`);
    } finally {
      await close(second);
    }
  });
});
