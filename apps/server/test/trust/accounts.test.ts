import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog, Session, TrainingJob } from '@tc/contracts';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';
import { apiToken, createUser, injectWithToken, signIn, TEST_ADMIN } from '../support/accounts.js';
import { closeJobsConsole, ENDED, jobRequest, startJobsConsole, untilStatus } from '../support/jobs.js';

let tc: TestConsole;
let image: string;
let alice: string;
let bob: string;

const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  ({ tc, image } = await startJobsConsole());
  alice = await createUser(tc.app, tc.adminToken, 'alice');
  bob = await createUser(tc.app, tc.adminToken, 'bob');
});

afterAll(() => closeJobsConsole(tc));

describe('authentication', () => {
  it('answers 401 on every /api route but health, sign-in and setup when no credentials come', async () => {
    const doc = tc.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const open = new Set(['GET /api/health', 'POST /api/v1/auth/sign-in', 'GET /api/v1/auth/setup', 'POST /api/v1/auth/setup']);
    let checked = 0;
    for (const [route, methods] of Object.entries(doc.paths)) {
      // The SPA's catch-all serves the page to anyone; the page then asks for sign-in.
      if (!route.startsWith('/api/')) continue;
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const url = route.replace(/\{[^}]+\}/g, 'x');
        const res = await tc.anonymous({ method: method as 'GET', url, payload: method === 'GET' ? undefined : {} });
        if (open.has(`${method} ${route}`)) {
          expect(res.statusCode, `${method} ${route}`).not.toBe(401);
        } else {
          expect(res.statusCode, `${method} ${route}`).toBe(401);
          expect(res.json()).toMatchObject({ error: 'unauthorized' });
          checked += 1;
        }
      }
    }
    // Every route of the API is listed in the document; a handful would mean it lost them.
    expect(checked).toBeGreaterThan(40);
    // Other spellings of a path reach either the check or no handler, never the data.
    for (const url of [
      '/api/v1/training-jobs/',
      '//api/v1/training-jobs',
      '/api/v1/./training-jobs',
      '/API/v1/training-jobs',
      '/api/v1/training-jobs%3F',
    ]) {
      const res = await tc.anonymous({ url });
      // 200 only for the console's page (the SPA fallback), which holds no data.
      if (res.statusCode === 200) expect(String(res.headers['content-type']), url).toMatch(/^text\/html/);
      else expect([401, 404], `${url}: ${res.statusCode}`).toContain(res.statusCode);
      expect(res.body, url).not.toContain('"items"');
    }
  });

  it('signs in with a secure, httpOnly, SameSite cookie and refuses a wrong password without saying which part was wrong', async () => {
    const wrong = await tc.anonymous({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: 'alice', password: 'nope-nope-nope' },
    });
    const unknown = await tc.anonymous({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: 'nobody', password: 'nope-nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().message).toBe(unknown.json().message);

    const ok = await tc.anonymous({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: 'alice', password: 'alice-password-1' },
    });
    expect(ok.statusCode).toBe(200);
    const setCookie = String(ok.headers['set-cookie']);
    expect(setCookie).toMatch(/^tc_session=[\w-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Secure/);
    const session = ok.json<Session>();
    expect(session.user).toMatchObject({ username: 'alice', role: 'user' });
    expect(JSON.stringify(session)).not.toMatch(/scrypt|password/i);
  });

  it('leaves the Secure flag off for plain HTTP to a non-loopback host, so a LAN console still signs in (TLS is documented)', async () => {
    const res = await tc.anonymous({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      headers: { host: 'console.lan:8080' },
      payload: { username: 'alice', password: 'alice-password-1' },
      remoteAddress: '198.51.100.7',
    });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
  });

  it('needs the CSRF header for changes made with the session cookie, and ends the session on sign-out', async () => {
    const { session, cookie } = await signIn(tc.app, 'alice', 'alice-password-1');
    const read = await tc.app.inject({ url: '/api/v1/training-jobs', headers: { cookie } });
    expect(read.statusCode).toBe(200);

    const body = { name: 'from-browser' };
    const bare = await tc.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: { cookie }, payload: body });
    expect(bare.statusCode).toBe(403);
    expect(bare.json()).toMatchObject({ error: 'csrf' });
    const forged = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      headers: { cookie, 'x-csrf-token': 'guess' },
      payload: body,
    });
    expect(forged.statusCode).toBe(403);
    const good = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      headers: { cookie, 'x-csrf-token': session.csrfToken },
      payload: body,
    });
    expect(good.statusCode).toBe(201);

    // A token wins over a cookie, for the session answer as for every route.
    const both = await tc.app.inject({ url: '/api/v1/auth/session', headers: { cookie, ...as(bob) } });
    expect(both.json<Session>()).toMatchObject({ user: { username: 'bob' }, csrfToken: '' });

    const out = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/sign-out',
      headers: { cookie, 'x-csrf-token': session.csrfToken },
    });
    expect(out.statusCode).toBe(204);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs', headers: { cookie } })).statusCode).toBe(401);
  });

  it('creates, lists (never showing the token again) and revokes API tokens', async () => {
    const made = await tc.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: as(bob), payload: { name: 'ci' } });
    expect(made.statusCode).toBe(201);
    const { id, token, prefix } = made.json();
    expect(token).toMatch(/^tct_/);
    expect(token.startsWith(prefix)).toBe(true);
    expect((await tc.app.inject({ url: '/api/v1/budget', headers: as(token) })).statusCode).toBe(200);

    const list = await tc.app.inject({ url: '/api/v1/auth/tokens', headers: as(bob) });
    expect(list.json().items.map((t: { name: string }) => t.name)).toContain('ci');
    expect(list.body).not.toContain(token);

    // Alice cannot revoke Bob's token, nor learn that it exists.
    expect((await tc.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: as(alice) })).statusCode).toBe(404);
    expect((await tc.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: as(bob) })).statusCode).toBe(204);
    const revoked = await tc.app.inject({ url: '/api/v1/budget', headers: as(token) });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().message).toMatch(/not valid/);
  });

  it('changes a password: the old one stops working, the other sessions end, this one stays', async () => {
    const carol = await createUser(tc.app, tc.adminToken, 'carol');
    const { cookie } = await signIn(tc.app, 'carol', 'carol-password-1');
    const here = await signIn(tc.app, 'carol', 'carol-password-1');
    const wrong = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: as(carol),
      payload: { currentPassword: 'not-it-at-all', newPassword: 'carol-password-2' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().fields[0].path).toBe('currentPassword');
    const short = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: as(carol),
      payload: { currentPassword: 'carol-password-1', newPassword: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().fields[0]).toMatchObject({ path: 'newPassword', message: expect.stringMatching(/at least 10/) });
    // Made in a browser session: that session stays, the other one ends, the token keeps working.
    const ok = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: { cookie: here.cookie, 'x-csrf-token': here.session.csrfToken },
      payload: { currentPassword: 'carol-password-1', newPassword: 'carol-password-2' },
    });
    expect(ok.statusCode).toBe(200);
    // The sign-in createUser made for the token, and `cookie`.
    expect(ok.json()).toEqual({ sessionsEnded: 2, tokensRevoked: 0 });
    expect(ok.cookies.find((c) => c.name === 'tc_session')).toBeUndefined();
    expect((await tc.app.inject({ url: '/api/v1/auth/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await tc.app.inject({ url: '/api/v1/auth/session', headers: { cookie: here.cookie } })).statusCode).toBe(200);
    expect((await tc.app.inject({ url: '/api/v1/auth/tokens', headers: as(carol) })).statusCode).toBe(200);
    await expect(signIn(tc.app, 'carol', 'carol-password-1')).rejects.toThrow(/401/);
    await signIn(tc.app, 'carol', 'carol-password-2');

    // With revokeTokens every token goes, the one making the request too; a session made with none stays.
    const bad = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: as(carol),
      payload: { currentPassword: 'carol-password-2', newPassword: 'carol-password-3', revokeTokens: 'yes' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].path).toBe('revokeTokens');
    const again = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: as(carol),
      payload: { currentPassword: 'carol-password-2', newPassword: 'carol-password-3', revokeTokens: true },
    });
    expect(again.json()).toEqual({ sessionsEnded: 2, tokensRevoked: 1 });
    expect((await tc.app.inject({ url: '/api/v1/auth/tokens', headers: as(carol) })).statusCode).toBe(401);
  });
});

describe('sign-in rate limit', () => {
  let limited: TestConsole;
  beforeAll(async () => {
    limited = await startTestConsole('embedded', { SIGN_IN_PER_MINUTE: '10' }, { signIn: false });
  });
  afterAll(async () => {
    injectWithToken(limited.app, await apiToken(limited.app, TEST_ADMIN.username, TEST_ADMIN.password));
    await limited.close();
  });

  it('rate-limits sign-in per username and client address: the 11th attempt in a minute is a 429 even with the right password', async () => {
    const attempt = (password: string, remoteAddress: string, username = 'admin') =>
      limited.anonymous({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { username, password }, remoteAddress });
    for (let i = 0; i < 10; i++) expect((await attempt('wrong-password', '192.0.2.10')).statusCode).toBe(401);
    const refused = await attempt(TEST_ADMIN.password, '192.0.2.10');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().message).toMatch(/too many sign-in attempts/);
    // The owner elsewhere is not locked out, and the address is not locked out of other accounts.
    expect((await attempt(TEST_ADMIN.password, '192.0.2.11')).statusCode).toBe(200);
    const other = await attempt('wrong-password', '192.0.2.10', 'bob');
    expect(other.statusCode).toBe(401);
    expect(other.json().message).toBe('wrong username or password');
  });

  it('ignores X-Forwarded-For without TRUST_PROXY', async () => {
    const attempt = (forwardedFor: string) =>
      limited.anonymous({
        method: 'POST',
        url: '/api/v1/auth/sign-in',
        payload: { username: 'carol', password: 'wrong-password' },
        remoteAddress: '192.0.2.20',
        headers: { 'x-forwarded-for': forwardedFor },
      });
    for (let i = 0; i < 10; i++) expect((await attempt(`198.51.100.${i + 1}`)).statusCode).toBe(401);
    expect((await attempt('198.51.100.99')).statusCode).toBe(429);
  });
});

describe('sign-in rate limit behind a trusted proxy (TRUST_PROXY)', () => {
  let proxied: TestConsole;
  beforeAll(async () => {
    proxied = await startTestConsole('embedded', { SIGN_IN_PER_MINUTE: '10', TRUST_PROXY: '192.0.2.1' }, { signIn: false });
  });
  afterAll(async () => {
    injectWithToken(proxied.app, await apiToken(proxied.app, TEST_ADMIN.username, TEST_ADMIN.password));
    await proxied.close();
  });

  it('keys the limit on the address the proxy forwards, and the audit log records that address', async () => {
    const attempt = (forwardedFor: string, username = 'alice', remoteAddress = '192.0.2.1') =>
      proxied.anonymous({
        method: 'POST',
        url: '/api/v1/auth/sign-in',
        payload: { username, password: 'wrong-password' },
        remoteAddress,
        headers: { 'x-forwarded-for': forwardedFor },
      });
    for (let i = 0; i < 10; i++) expect((await attempt('198.51.100.7')).statusCode).toBe(401);
    expect((await attempt('198.51.100.7')).statusCode).toBe(429);
    // Another client behind the same proxy, and another user from the same client, still get an answer.
    expect((await attempt('198.51.100.8')).statusCode).toBe(401);
    expect((await attempt('198.51.100.7', 'bob')).statusCode).toBe(401);
    // A header from an address that is not the proxy is not believed: that client is the one limited.
    for (let i = 0; i < 10; i++) expect((await attempt(`203.0.113.${i + 1}`, 'carol', '192.0.2.50')).statusCode).toBe(401);
    expect((await attempt('203.0.113.99', 'carol', '192.0.2.50')).statusCode).toBe(429);

    const token = await apiToken(proxied.app, TEST_ADMIN.username, TEST_ADMIN.password);
    const log = await proxied.anonymous({ url: '/api/v1/audit-log?pageSize=200', headers: { authorization: `Bearer ${token}` } });
    const ips = new Set(log.json<AuditLog>().items.map((e) => e.ip));
    expect(ips).toContain('198.51.100.7');
    expect(ips).not.toContain('203.0.113.1');
  });
});

describe('users and the audit log', () => {
  it('lets only admins manage users and read the audit log', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/users'],
      ['POST', '/api/v1/users'],
      ['DELETE', '/api/v1/users/alice'],
      ['GET', '/api/v1/audit-log'],
    ] as const) {
      const res = await tc.app.inject({
        method,
        url,
        headers: as(bob),
        payload: method === 'POST' ? { username: 'mallory', password: 'mallory-password' } : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    const users = await tc.app.inject({ url: '/api/v1/users' });
    expect(users.json().items.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['admin', 'alice', 'bob']));
    expect(users.body).not.toMatch(/scrypt|password/i);
    const dup = await tc.app.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'alice', password: 'another-password' } });
    expect(dup.statusCode).toBe(409);
    const bad = await tc.app.inject({ method: 'POST', url: '/api/v1/users', payload: { username: 'X y', password: 'short' } });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .fields.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['password', 'username']);
    const self = await tc.app.inject({ method: 'DELETE', url: '/api/v1/users/admin' });
    expect(self.statusCode).toBe(409);
  });

  it('records who changed what, when, including failed sign-ins, and never a password', async () => {
    await tc.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: as(alice), payload: { name: 'audited' } });
    await tc.anonymous({
      method: 'POST',
      url: '/api/v1/auth/sign-in',
      payload: { username: 'alice', password: 'guessing-123' },
      remoteAddress: '203.0.113.5',
    });
    const log = (await tc.app.inject({ url: '/api/v1/audit-log?pageSize=200' })).json<AuditLog>();
    expect(log.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          username: 'alice',
          action: 'POST /api/v1/auth/tokens',
          target: '/api/v1/auth/tokens (name audited)',
          status: 201,
        }),
        expect.objectContaining({
          username: null,
          action: 'POST /api/v1/auth/sign-in',
          target: '/api/v1/auth/sign-in (user alice)',
          status: 401,
          ip: '203.0.113.5',
        }),
        expect.objectContaining({ username: 'admin', action: 'POST /api/v1/users', target: '/api/v1/users (user alice)', status: 201 }),
        expect.objectContaining({ username: 'alice', action: 'POST /api/v1/auth/sign-in', status: 200 }),
      ]),
    );
    expect(JSON.stringify(log)).not.toMatch(/guessing-123|alice-password/);
    const onlyAlice = (await tc.app.inject({ url: '/api/v1/audit-log?username=alice' })).json<AuditLog>();
    expect(onlyAlice.items.every((e) => e.username === 'alice')).toBe(true);
    // Reads are not changes.
    expect(log.items.some((e) => e.action.startsWith('GET '))).toBe(false);
  });
});

describe('per-user isolation', () => {
  let job: TrainingJob;

  beforeAll(async () => {
    const res = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: as(alice),
      payload: jobRequest('alice-job', image, 'echo mine'),
    });
    expect(res.statusCode, res.body).toBe(201);
    job = res.json();
    await untilStatus(tc, job, ENDED);
  });

  it("answers 404 for another user's job on every route, and hides it from their list", async () => {
    const base = `/api/v1/training-jobs/${job.name}/versions/${job.version}`;
    for (const [method, url] of [
      ['GET', base],
      ['GET', `${base}/logs`],
      ['GET', `${base}/logs/download`],
      ['GET', `${base}/logs/stream`],
      ['POST', `${base}/stop`],
      ['DELETE', base],
    ] as const) {
      const res = await tc.app.inject({ method, url, headers: as(bob) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().message).toMatch(/does not exist/);
    }
    expect((await tc.app.inject({ url: '/api/v1/training-jobs', headers: as(bob) })).json().total).toBe(0);
    expect((await tc.app.inject({ url: base, headers: as(alice) })).statusCode).toBe(200);
    // Admins see everyone's.
    const all = (await tc.app.inject({ url: '/api/v1/training-jobs?name=alice-job' })).json();
    expect(all.total).toBe(1);
  });

  it("refuses a new version of another user's job name, but lets its owner make one", async () => {
    const theirs = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: as(bob),
      payload: jobRequest('alice-job', image, 'echo hijack'),
    });
    expect(theirs.statusCode).toBe(409);
    expect(theirs.json().message).toMatch(/used by another user/);
    const own = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: as(alice),
      payload: jobRequest('alice-job', image, 'echo again'),
    });
    expect(own.statusCode).toBe(201);
    expect(own.json().version).toBe('V002');
    await untilStatus(tc, own.json(), ENDED);
  });

  it('keeps idempotency keys per user', async () => {
    const post = (token: string, name: string) =>
      tc.app.inject({
        method: 'POST',
        url: '/api/v1/training-jobs',
        headers: { ...as(token), 'idempotency-key': 'same-key' },
        payload: jobRequest(name, image, 'true'),
      });
    const a = await post(alice, 'idem-alice');
    const b = await post(bob, 'idem-bob');
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().name).toBe('idem-bob');
    await untilStatus(tc, a.json(), ENDED);
    await untilStatus(tc, b.json(), ENDED);
  });

  it("hides another user's parameter sets, topics and datasets, and refuses them in a create", async () => {
    const parameters = { ...jobRequest('unused', image, 'true') } as Record<string, unknown>;
    delete parameters.name;
    expect(
      (
        await tc.app.inject({
          method: 'POST',
          url: '/api/v1/training-job-configs',
          headers: as(alice),
          payload: { name: 'alice-set', parameters },
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (await tc.app.inject({ method: 'POST', url: '/api/v1/notification-topics', headers: as(alice), payload: { name: 'alice-topic' } }))
        .statusCode,
    ).toBe(201);
    await uploadText(tc.store, 'alice-data', { 'set/a.csv': '1,2\n' });
    const ds = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/datasets',
      headers: as(alice),
      payload: { name: 'alice-ds', path: 'obs://alice-data/set/' },
    });
    expect(ds.statusCode, ds.body).toBe(201);
    expect((await tc.app.inject({ method: 'POST', url: '/api/v1/datasets/alice-ds/versions', headers: as(alice) })).statusCode).toBe(201);

    for (const url of [
      '/api/v1/training-job-configs/alice-set',
      '/api/v1/notification-topics/alice-topic',
      '/api/v1/notification-topics/alice-topic/deliveries',
      '/api/v1/datasets/alice-ds',
      '/api/v1/datasets/alice-ds/versions/V001/files',
    ]) {
      expect((await tc.app.inject({ url, headers: as(bob) })).statusCode, url).toBe(404);
      expect((await tc.app.inject({ url, headers: as(alice) })).statusCode, url).toBe(200);
    }
    for (const url of ['/api/v1/training-job-configs', '/api/v1/notification-topics', '/api/v1/datasets']) {
      expect((await tc.app.inject({ url, headers: as(bob) })).json().total, url).toBe(0);
    }
    for (const [method, url] of [
      ['DELETE', '/api/v1/training-job-configs/alice-set'],
      ['DELETE', '/api/v1/notification-topics/alice-topic'],
      ['POST', '/api/v1/notification-topics/alice-topic/secret'],
      ['DELETE', '/api/v1/datasets/alice-ds'],
      ['POST', '/api/v1/datasets/alice-ds/versions'],
    ] as const) {
      expect((await tc.app.inject({ method, url, headers: as(bob) })).statusCode, `${method} ${url}`).toBe(404);
    }
    const fromSet = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-job-configs/alice-set/jobs',
      headers: as(bob),
      payload: { jobName: 'bob-from-set' },
    });
    expect(fromSet.statusCode).toBe(404);

    const withTopic = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: as(bob),
      payload: jobRequest('bob-topic', image, 'true', { notification: { topic: 'alice-topic', events: ['OnJobSucceeded'] } }),
    });
    expect(withTopic.statusCode).toBe(400);
    expect(withTopic.json().fields[0].path).toBe('notification.topic');
    const withDataset = await tc.app.inject({
      method: 'POST',
      url: '/api/v1/training-jobs',
      headers: as(bob),
      payload: jobRequest('bob-ds', image, 'true', { data: { source: 'dataset', datasetId: 'alice-ds', version: 'V001' } }),
    });
    expect(withDataset.statusCode).toBe(400);
    expect(withDataset.json().fields[0].path).toBe('data.datasetId');
    expect(
      (await tc.app.inject({ url: '/api/v1/training-jobs', headers: as(bob) })).json().items.map((j: TrainingJob) => j.name),
    ).not.toContain('bob-topic');
  });

  it('keeps what a deleted user made, visible to admins, and ends their tokens', async () => {
    const dave = await createUser(tc.app, tc.adminToken, 'dave');
    await tc.app.inject({ method: 'POST', url: '/api/v1/notification-topics', headers: as(dave), payload: { name: 'dave-topic' } });
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/users/dave' })).statusCode).toBe(204);
    expect((await tc.app.inject({ url: '/api/v1/budget', headers: as(dave) })).statusCode).toBe(401);
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/dave-topic' })).statusCode).toBe(200);
  });
});

describe('first start', () => {
  let fresh: TestConsole | undefined;
  afterAll(async () => {
    // Its close() lists jobs, which needs the admin this test made.
    if (fresh) injectWithToken(fresh.app, await apiToken(fresh.app, 'root', 'first-admin-password'));
    await fresh?.close();
  });

  it('without ADMIN_PASSWORD, waits for the first admin with a one-time code from the log and the data folder', async () => {
    fresh = await startTestConsole('embedded', { ADMIN_PASSWORD: '' }, { signIn: false });
    const app = fresh.app;
    expect((await app.inject({ url: '/api/v1/auth/setup' })).json()).toEqual({ required: true });
    expect((await app.inject({ url: '/api/v1/training-jobs' })).statusCode).toBe(401);
    const codeFile = path.join(fresh.dataDir, 'setup-code');
    const code = readFileSync(codeFile, 'utf8').trim();

    const setup = (setupCode: string, username = 'root') =>
      app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: { setupCode, username, password: 'first-admin-password' } });
    const wrong = await setup('not-the-code');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().fields[0].path).toBe('setupCode');

    const done = await setup(code);
    expect(done.statusCode).toBe(200);
    expect(done.json<Session>().user).toMatchObject({ username: 'root', role: 'admin' });
    expect(String(done.headers['set-cookie'])).toMatch(/^tc_session=/);
    expect(existsSync(codeFile)).toBe(false);
    expect((await app.inject({ url: '/api/v1/auth/setup' })).json()).toEqual({ required: false });
    expect((await setup(code, 'second')).statusCode).toBe(409);
    await signIn(app, 'root', 'first-admin-password');
  });
});
