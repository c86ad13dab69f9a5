import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDelivery, NotificationMessage, TrainingJob } from '@tc/contracts';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { ENDED, jobRequest, submit, untilStatus } from '../support/jobs.js';
import { startTestConsole, uploadText, waitFor, type TestConsole } from '../support/console.js';
import { startReceiver, type Receiver } from './receiver.js';

let tc: TestConsole;
let rootImage: string;
let goodImage: string;
const receivers: Receiver[] = [];

const BASE_MS = 150;
const MAX_ATTEMPTS = 4;

beforeAll(async () => {
  tc = await startTestConsole('embedded', {
    NOTIFY_RETRY_BASE_MS: String(BASE_MS),
    NOTIFY_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    NOTIFY_POLL_MS: '50',
    NOTIFY_TIMEOUT_MS: '2000',
    PUBLIC_URL: 'https://console.example.com/',
    // The receivers listen on loopback, which webhooks reach only when allowed.
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
  [rootImage, goodImage] = await Promise.all([buildTestImage('root'), buildTestImage('user1101'), uploadCode()]);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await tc?.close();
  await removeTestContainers();
  await removeTestImages();
});

async function uploadCode(): Promise<string> {
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'echo hi', 'data/a.txt': 'A' });
  return '';
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function topic(name: string, urls: string[]): Promise<string> {
  const res = await tc.app.inject({
    method: 'POST',
    url: '/api/v1/notification-topics',
    payload: { name, subscriptions: urls.map((url) => ({ url })) },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().secret as string;
}

async function deliveries(name: string): Promise<NotificationDelivery[]> {
  const res = await tc.app.inject({ url: `/api/v1/notification-topics/${name}/deliveries` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

async function settled(name: string, count: number): Promise<NotificationDelivery[]> {
  return waitFor(`${count} settled deliveries of ${name}`, async () => {
    const items = await deliveries(name);
    return items.length === count && items.every((d) => d.state !== 'pending') ? items : null;
  });
}

async function timeline(job: Pick<TrainingJob, 'name' | 'version'>): Promise<string[]> {
  const j: TrainingJob = (await tc.app.inject({ url: `/api/v1/training-jobs/${job.name}/versions/${job.version}` })).json();
  return j.events.filter((e) => e.type === 'notification').map((e) => e.message);
}

/** What a receiver does, written out here rather than imported, so the test checks the documented recipe. */
function verifies(secret: string, headers: Record<string, unknown>, body: string): boolean {
  const ts = String(headers['x-tc-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
  return headers['x-tc-signature'] === expected && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
}

describe('job notifications over real webhooks', () => {
  it('delivers OnJobFailed, signed, on the 3rd attempt after two 500s, with every attempt recorded', async () => {
    const r = await receiver();
    r.respond = (n) => (n <= 2 ? 500 : 200);
    const secret = await topic('failures', [r.url]);

    const job = await submit(
      tc,
      jobRequest('notify-fail', rootImage, 'true', { notification: { topic: 'failures', events: ['OnJobFailed'] } }),
    );
    const ended = await untilStatus(tc, job, ENDED);
    expect(ended.status).toBe('Running failed');

    const [d] = await settled('failures', 1);
    expect(d).toMatchObject({ state: 'delivered', event: 'OnJobFailed', job: { name: 'notify-fail', version: 'V001' }, url: r.url });
    expect(d!.nextAttemptAt).toBeNull();
    expect(d!.attempts.map((a) => [a.attempt, a.httpStatus, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 500, 'HTTP 500'],
      [3, 200, null],
    ]);

    expect(r.received).toHaveLength(3);
    // Backoff: the 2nd attempt waits the base, the 3rd twice that.
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(BASE_MS - 20);
    expect(r.received[2]!.at - r.received[1]!.at).toBeGreaterThanOrEqual(2 * BASE_MS - 20);
    for (const got of r.received) {
      expect(verifies(secret, got.headers, got.body)).toBe(true);
      expect(verifies(`${secret}x`, got.headers, got.body)).toBe(false);
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['x-tc-event']).toBe('OnJobFailed');
    }
    // The same message every time, so a receiver can drop repeats by messageId.
    expect(new Set(r.received.map((g) => g.body)).size).toBe(1);
    const message = JSON.parse(r.received[2]!.body) as NotificationMessage;
    expect(r.received[2]!.headers['x-tc-message-id']).toBe(message.messageId);
    expect(message).toMatchObject({
      event: 'OnJobFailed',
      topic: 'failures',
      job: {
        name: 'notify-fail',
        version: 'V001',
        status: 'Running failed',
        reason: ended.reason,
        createdAt: ended.createdAt,
        endedAt: ended.endedAt,
        url: 'https://console.example.com/jobs/notify-fail/V001',
      },
    });

    const lines = await timeline(job);
    expect(lines[0]).toBe('notification OnJobFailed queued for 1 subscription of topic failures');
    expect(lines[1]).toMatch(
      new RegExp(`^notification OnJobFailed to ${r.url} failed \\(HTTP 500\\) on attempt 1; next attempt in \\d+ ms$`),
    );
    expect(lines[2]).toMatch(/failed \(HTTP 500\) on attempt 2; next attempt in/);
    expect(lines[3]).toBe(`notification OnJobFailed to ${r.url} delivered (200) on attempt 3`);
  });

  it('notifies OnJobRunning and OnJobSucceeded of a job that runs, to every subscription', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const secret = await topic('lifecycle', [a.url, b.url]);
    const job = await submit(
      tc,
      jobRequest('notify-ok', goodImage, 'echo training', {
        notification: { topic: 'lifecycle', events: ['OnJobRunning', 'OnJobSucceeded', 'OnJobFailed'] },
      }),
    );
    const ended = await untilStatus(tc, job, ENDED);
    expect(ended.status, ended.reason ?? '').toBe('Successful');
    const items = await settled('lifecycle', 4);
    expect(items.every((d) => d.state === 'delivered' && d.attempts.length === 1)).toBe(true);
    for (const r of [a, b]) {
      const events = r.received.map((g) => (JSON.parse(g.body) as NotificationMessage).event);
      expect(events.sort()).toEqual(['OnJobRunning', 'OnJobSucceeded']);
      expect(r.received.every((g) => verifies(secret, g.headers, g.body))).toBe(true);
    }
    const running = a.received.map((g) => JSON.parse(g.body) as NotificationMessage).find((m) => m.event === 'OnJobRunning')!;
    expect(running.job.status).toBe('Running');
    expect(running.job.startedAt).toBe(ended.startedAt);
    const lines = await timeline(job);
    expect(lines.filter((l) => l.endsWith('delivered (200) on attempt 1'))).toHaveLength(4);
  });

  it('gives up after the last attempt, recording errors with no HTTP status too', async () => {
    const r = await receiver();
    r.respond = () => 503;
    await r.close();
    const refused = r.url; // nothing listens there any more
    const flaky = await receiver();
    flaky.respond = () => 503;
    await topic('broken', [refused, flaky.url]);
    const job = await submit(
      tc,
      jobRequest('notify-broken', rootImage, 'true', { notification: { topic: 'broken', events: ['OnJobFailed'] } }),
    );
    await untilStatus(tc, job, ENDED);
    const items = await settled('broken', 2);
    for (const d of items) {
      expect(d.state).toBe('failed');
      expect(d.attempts).toHaveLength(MAX_ATTEMPTS);
    }
    const toRefused = items.find((d) => d.url === refused)!;
    // No socket error code: told apart per port, those would make webhooks a port scanner.
    expect(toRefused.attempts[0]).toMatchObject({ httpStatus: null, error: 'could not connect' });
    expect(items.find((d) => d.url === flaky.url)!.attempts.map((a) => a.httpStatus)).toEqual(Array(MAX_ATTEMPTS).fill(503));
    const lines = await timeline(job);
    expect(lines.filter((l) => l.endsWith(`on attempt ${MAX_ATTEMPTS}; giving up`))).toHaveLength(2);
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/broken/deliveries?state=failed' })).json().total).toBe(2);
  });

  it('notes on the timeline when the topic has no subscriptions or is gone, and sends nothing for unchosen events', async () => {
    await topic('empty', []);
    const job = await submit(
      tc,
      jobRequest('notify-empty', rootImage, 'true', { notification: { topic: 'empty', events: ['OnJobFailed'] } }),
    );
    await untilStatus(tc, job, ENDED);
    await waitFor('the timeline line', async () => (await timeline(job)).length > 0);
    expect(await timeline(job)).toEqual(['notification OnJobFailed not sent: topic empty has no subscriptions']);

    const r = await receiver();
    await topic('gone', [r.url]);
    const later = await submit(
      tc,
      jobRequest('notify-gone', goodImage, 'sleep 1', { notification: { topic: 'gone', events: ['OnJobSucceeded'] } }),
    );
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/notification-topics/gone' })).statusCode).toBe(204);
    await untilStatus(tc, later, ENDED);
    await waitFor('the timeline line', async () => (await timeline(later)).length > 0);
    expect(await timeline(later)).toEqual(['notification OnJobSucceeded not sent: topic gone no longer exists']);
    expect(r.received).toEqual([]);
  });
});
