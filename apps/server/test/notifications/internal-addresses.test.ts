import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDelivery } from '@tc/contracts';
import { ConfigError, loadConfig } from '../../src/config.js';
import { InternalAddressError, WebhookAddressPolicy } from '../../src/notifications/address-policy.js';
import { HttpWebhookSender } from '../../src/notifications/webhook-sender.js';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { jobRequest } from '../support/jobs.js';
import { uploadText, waitFor } from '../support/console.js';
import { RestartableConsole, type OpenedConsole } from '../support/restartable-console.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * Webhooks must not become a way into the console's own network (SSRF). Consoles here open one
 * after the other over one DATA_DIR, so a subscription made while an address was allowed can be
 * delivered by a console that no longer allows it: what DNS rebinding does to a host name.
 */
let consoles: RestartableConsole;
let rootImage: string;
const receivers: Receiver[] = [];

const REFUSED = 'refused: the address is internal (not allowed)';

const open = (env: Record<string, string> = {}): Promise<OpenedConsole> =>
  consoles.open({ NOTIFY_RETRY_BASE_MS: '50', NOTIFY_MAX_ATTEMPTS: '2', NOTIFY_POLL_MS: '50', NOTIFY_TIMEOUT_MS: '2000', ...env });
const close = (c: OpenedConsole): Promise<void> => consoles.close(c);

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

function createTopic(c: OpenedConsole, name: string, urls: string[]) {
  return c.app.inject({
    method: 'POST',
    url: '/api/v1/notification-topics',
    payload: { name, subscriptions: urls.map((url) => ({ url })) },
  });
}

/** Submits a job that fails its image check (a root image), so the topic hears OnJobFailed. */
async function failingJob(c: OpenedConsole, name: string, topic: string): Promise<void> {
  const res = await c.app.inject({
    method: 'POST',
    url: '/api/v1/training-jobs',
    payload: jobRequest(name, rootImage, 'true', { notification: { topic, events: ['OnJobFailed'] } }),
  });
  expect(res.statusCode, res.body).toBe(201);
}

async function settled(c: OpenedConsole, topic: string, count: number): Promise<NotificationDelivery[]> {
  return waitFor(`${count} settled deliveries of ${topic}`, async () => {
    const items: NotificationDelivery[] = (await c.app.inject({ url: `/api/v1/notification-topics/${topic}/deliveries` })).json().items;
    return items.length === count && items.every((d) => d.state !== 'pending') ? items : null;
  });
}

async function timeline(c: OpenedConsole, job: string): Promise<string[]> {
  const j = (await c.app.inject({ url: `/api/v1/training-jobs/${job}/versions/V001` })).json();
  return j.events.filter((e: { type: string }) => e.type === 'notification').map((e: { message: string }) => e.message);
}

beforeAll(async () => {
  consoles = await RestartableConsole.create('tc-notify-internal-', { from: 19900, count: 90 });
  const { store } = consoles;
  [rootImage] = await Promise.all([buildTestImage('root'), uploadText(store, 'jobs', { 'code/run.sh': 'true', 'data/a.txt': 'A' })]);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await consoles?.dispose();
  await removeTestContainers();
  await removeTestImages();
});

/** Every class of internal address, in the spellings a URL allows; each must be refused by default. */
const INTERNAL: [string, string][] = [
  ['loopback', 'http://127.0.0.1:8080/hook'],
  ['loopback, end of the range', 'http://127.255.255.254/'],
  ['loopback IPv6', 'http://[::1]:8080/'],
  ['localhost', 'http://localhost:9/'],
  ['localhost, upper case with a root dot', 'http://LOCALHOST./'],
  ['a name under localhost', 'http://api.localhost/'],
  ['link-local (cloud metadata)', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local IPv6', 'http://[fe80::1]/'],
  ['private 10/8', 'http://10.0.0.5/hook'],
  ['private 172.16/12', 'http://172.16.0.1/'],
  ['private 172.16/12, end', 'https://172.31.255.255/'],
  ['private 192.168/16', 'http://192.168.1.1/'],
  ['unique local IPv6', 'http://[fd12:3456::1]/'],
  ['unique local IPv6, fc00', 'http://[fc00::1]/'],
  ['unspecified', 'http://0.0.0.0:8080/'],
  ['unspecified, short', 'http://0/'],
  ['unspecified IPv6', 'http://[::]/'],
  ['CGNAT 100.64/10', 'http://100.64.0.1/'],
  ['CGNAT, end', 'http://100.127.255.255/'],
  ['multicast', 'http://224.0.0.1/'],
  ['multicast IPv6', 'http://[ff02::1]/'],
  ['reserved 240/4', 'http://240.0.0.1/'],
  ['broadcast', 'http://255.255.255.255/'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
  ['IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/'],
  ['IPv4-mapped private, hex form', 'http://[::ffff:a00:1]/'],
  ['NAT64 of loopback', 'http://[64:ff9b::7f00:1]/'],
  ['6to4 of loopback', 'http://[2002:7f00:1::1]/'],
  ['decimal 127.0.0.1', 'http://2130706433/'],
  ['octal 127.0.0.1', 'http://0177.0.0.1/'],
  ['hex 127.0.0.1', 'http://0x7f.1/'],
  ['hex, one number', 'http://0x7f000001/'],
  ['short 127.1', 'http://127.1:8080/'],
  ['decimal metadata', 'http://2852039166/'],
];

describe('subscriptions to internal addresses, by default', () => {
  let c: OpenedConsole;
  beforeAll(async () => {
    c = await open();
    expect((await createTopic(c, 'plain', [])).statusCode).toBe(201);
  });
  afterAll(async () => {
    await close(c);
  });

  it.each(INTERNAL)('refuses %s (%s) with a 400 on the field', async (_, url) => {
    const created = await createTopic(c, `t${Math.random().toString(36).slice(2, 10)}`, ['https://93.184.215.14/ok', url]);
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json().fields).toEqual([{ path: 'subscriptions.1.url', message: expect.stringContaining('internal') }]);

    const added = await c.app.inject({ method: 'POST', url: '/api/v1/notification-topics/plain/subscriptions', payload: { url } });
    expect(added.statusCode, added.body).toBe(400);
    expect(added.json().fields).toEqual([{ path: 'url', message: expect.stringContaining('internal') }]);
  });
});

describe('webhooks to internal addresses', () => {
  it('accepts public addresses next to the internal ranges', async () => {
    const c = await open();
    try {
      const urls = [
        'http://172.32.0.1/',
        'http://100.128.0.1/',
        'http://11.0.0.1/',
        'http://8.8.8.8/',
        'http://[2606:4700::1111]/',
        'http://[::ffff:8.8.8.8]/',
      ];
      const created = await createTopic(c, 'public-ok', urls);
      expect(created.statusCode, created.body).toBe(201);
    } finally {
      await close(c);
    }
  });

  it('allows hosts and ranges listed in WEBHOOK_ALLOW_HOSTS, and nothing else', async () => {
    const c = await open({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1, 10.0.0.0/8,localhost,fd00::/8' });
    try {
      const ok = await createTopic(c, 'allowed', [
        'http://127.0.0.1:1/h',
        'http://0x7f.1:2/h',
        'http://10.9.8.7/',
        'http://localhost:3/',
        'http://[fd00::5]/',
      ]);
      expect(ok.statusCode, ok.body).toBe(201);
      const still = await createTopic(c, 'not-listed', ['http://127.0.0.2/', 'http://192.168.1.1/', 'http://169.254.169.254/']);
      expect(still.statusCode).toBe(400);
      expect(still.json().fields.map((f: { path: string }) => f.path)).toEqual([
        'subscriptions.0.url',
        'subscriptions.1.url',
        'subscriptions.2.url',
      ]);
    } finally {
      await close(c);
    }
  });

  it('refuses a bad WEBHOOK_ALLOW_HOSTS at start, naming it', () => {
    for (const bad of ['10.0.0.0/33', 'not a host!', '127.0.0.1/x', '::1/129']) {
      expect(() => loadConfig({ WEBHOOK_ALLOW_HOSTS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ WEBHOOK_ALLOW_HOSTS: bad }), bad).toThrow(/WEBHOOK_ALLOW_HOSTS/);
    }
    expect(loadConfig({ WEBHOOK_ALLOW_HOSTS: '' }).webhookAllowHosts).toEqual([]);
    expect(loadConfig({ WEBHOOK_ALLOW_HOSTS: ' hooks.internal. ,127.0.0.1,10.0.0.0/8 ' }).webhookAllowHosts).toEqual([
      'hooks.internal',
      '127.0.0.1',
      '10.0.0.0/8',
    ]);
  });

  it('checks the address again at delivery: a subscription allowed then is refused once the allow list no longer covers it', async () => {
    const r = await receiver();
    const port = new URL(r.url).port;
    const urls = [`http://localhost:${port}/hook`, `http://127.1:${port}/hook`];
    const first = await open({ WEBHOOK_ALLOW_HOSTS: 'localhost,127.0.0.1' });
    try {
      expect((await createTopic(first, 'rebind', urls)).statusCode).toBe(201);
    } finally {
      await close(first);
    }

    // The same database, the default setting: `localhost` now resolves to an address not allowed.
    const second = await open();
    try {
      await failingJob(second, 'rebind-job', 'rebind');
      const items = await settled(second, 'rebind', 2);
      for (const d of items) {
        expect(d.state).toBe('failed');
        expect(d.attempts.map((a) => [a.httpStatus, a.error])).toEqual([
          [null, REFUSED],
          [null, REFUSED],
        ]);
      }
      expect(r.received).toEqual([]);
      const lines = await timeline(second, 'rebind-job');
      expect(lines.filter((l) => l.includes(`failed (${REFUSED})`))).toHaveLength(4);
    } finally {
      await close(second);
    }
  });

  it('does not follow a redirect to another internal address, and says why the attempt failed', async () => {
    const [target, redirecting] = [await receiver(), await receiver()];
    redirecting.respond = () => 302;
    redirecting.location = target.url;
    const c = await open({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    try {
      expect((await createTopic(c, 'redirect', [redirecting.url])).statusCode).toBe(201);
      await failingJob(c, 'redirect-job', 'redirect');
      const [d] = await settled(c, 'redirect', 1);
      expect(d!.state).toBe('failed');
      expect(d!.attempts.map((a) => [a.httpStatus, a.error])).toEqual([
        [302, 'HTTP 302 (redirects are not followed)'],
        [302, 'HTTP 302 (redirects are not followed)'],
      ]);
      expect(redirecting.received).toHaveLength(2);
      expect(target.received).toEqual([]);
    } finally {
      await close(c);
    }
  });

  it('tells a closed port from an open one by no detail: a connection failure reads "could not connect"', async () => {
    const gone = await receiver();
    await gone.close();
    const c = await open({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
    try {
      expect((await createTopic(c, 'closed-port', [gone.url])).statusCode).toBe(201);
      await failingJob(c, 'closed-port-job', 'closed-port');
      const [d] = await settled(c, 'closed-port', 1);
      expect(d!.attempts.map((a) => [a.httpStatus, a.error])).toEqual([
        [null, 'could not connect'],
        [null, 'could not connect'],
      ]);
      const lines = await timeline(c, 'closed-port-job');
      expect(lines.filter((l) => l.includes('failed (could not connect)'))).toHaveLength(2);
      expect(lines.join('\n')).not.toMatch(/ECONN/);
    } finally {
      await close(c);
    }
  });
});

describe('the sender, at connection time', () => {
  const post = (sender: HttpWebhookSender, url: string) =>
    sender.post(url, '{}', { 'content-type': 'application/json' }, AbortSignal.timeout(5000));

  it('resolves the name and refuses it when an address is internal, whatever the spelling; allows what is listed', async () => {
    const r = await receiver();
    const port = new URL(r.url).port;
    const byName = `http://localhost:${port}/hook`;
    const short = `http://127.1:${port}/hook`;
    const mapped = `http://[::ffff:127.0.0.1]:${port}/hook`;

    const strict = new HttpWebhookSender(new WebhookAddressPolicy());
    for (const url of [byName, short, mapped, r.url]) {
      await expect(post(strict, url), url).rejects.toBeInstanceOf(InternalAddressError);
    }
    expect(r.received).toEqual([]);

    // A listed name is trusted whatever it resolves to; its address is not thereby allowed.
    const name = new HttpWebhookSender(new WebhookAddressPolicy(['localhost']));
    expect(await post(name, byName)).toBe(200);
    await expect(post(name, short)).rejects.toBeInstanceOf(InternalAddressError);
    expect(r.received).toHaveLength(1);

    const range = new HttpWebhookSender(new WebhookAddressPolicy(['127.0.0.0/8']));
    for (const url of [byName, short, mapped, r.url]) expect(await post(range, url), url).toBe(200);
    expect(r.received).toHaveLength(5);
  });
});
