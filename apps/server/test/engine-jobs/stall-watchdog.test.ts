import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationMessage } from '@tc/contracts';
import { waitFor, type TestConsole } from '../support/console.js';
import { ENDED, jobRequest, submit, untilStatus, startJobsConsole, closeJobsConsole } from '../support/jobs.js';
import { startReceiver, type Receiver } from '../notifications/receiver.js';

// "Stop or alert when no log line for N minutes". The watchdog counts whole minutes, so each run
// here waits one real minute; the two run side by side.
let tc: TestConsole;
let image: string;
let hook: Receiver;

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole({ STOP_GRACE_SECONDS: '2', NOTIFY_POLL_MS: '50', WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }));
  hook = await startReceiver();
  const res = await tc.app.inject({
    method: 'POST',
    url: '/api/v1/notification-topics',
    payload: { name: 'stalls', subscriptions: [{ url: hook.url }] },
  });
  expect(res.statusCode, res.body).toBe(201);
});
afterAll(async () => {
  await hook?.close();
  await closeJobsConsole(tc);
});

const notification = { topic: 'stalls', events: ['OnJobStalled'] };

describe('the stall watchdog', () => {
  it('stops a silent run and fails it as stalled, or only alerts, notifying OnJobStalled either way', { timeout: 180_000 }, async () => {
    const stop = await submit(
      tc,
      jobRequest('goes-quiet', image, 'echo started; sleep 600', { stallWatchdog: { minutes: 1, action: 'stop' }, notification }),
    );
    const alert = await submit(
      tc,
      jobRequest('pauses', image, 'echo started; sleep 65; echo resumed', { stallWatchdog: { minutes: 1, action: 'alert' }, notification }),
    );
    const [stopped, alerted] = await Promise.all([untilStatus(tc, stop, ENDED, 150_000), untilStatus(tc, alert, ENDED, 150_000)]);

    expect(stopped.status).toBe('Running failed');
    expect(stopped.reason).toBe('stalled: no output for 1 minute');
    expect(stopped.failureClass).toBe('user');
    expect(stopped.events.find((e) => e.type === 'stalled')!.message).toBe('stalled: no output for 1 minute; stopping the job');
    expect(Date.parse(stopped.endedAt!) - Date.parse(stopped.startedAt!)).toBeGreaterThanOrEqual(60_000);

    expect(alerted.status).toBe('Successful');
    expect(alerted.events.filter((e) => e.type === 'stalled').map((e) => e.message)).toEqual(['stalled: no output for 1 minute']);

    const messages = await waitFor('two OnJobStalled deliveries', async () => {
      const m = hook.received.map((r) => JSON.parse(r.body) as NotificationMessage).filter((x) => x.event === 'OnJobStalled');
      return m.length >= 2 ? m : null;
    });
    expect(messages.map((m) => m.job.name).sort()).toEqual(['goes-quiet', 'pauses']);
  });

  it('is refused outside 1 to 1440 whole minutes, naming the field', async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      payload: jobRequest('bad-watchdog', image, 'true', { stallWatchdog: { minutes: 0, action: 'nap' } }),
    });
    expect(res.statusCode).toBe(400);
    expect(
      res
        .json()
        .fields.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['stallWatchdog.action', 'stallWatchdog.minutes']);
  });
});
