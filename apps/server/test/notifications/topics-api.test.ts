import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobRequest } from '../support/jobs.js';
import { startTestConsole, uploadText, type TestConsole } from '../support/console.js';

let tc: TestConsole;

beforeAll(async () => {
  // One test subscribes a loopback URL, which is refused unless allowed.
  tc = await startTestConsole('embedded', { WEBHOOK_ALLOW_HOSTS: '127.0.0.1' });
  await uploadText(tc.store, 'jobs', { 'code/run.sh': 'true', 'data/a.txt': 'A' });
});
afterAll(async () => {
  await tc?.close();
});

const post = (url: string, payload?: unknown) => tc.app.inject({ method: 'POST', url, payload: payload as object });

describe('notification topics API', () => {
  it('creates a topic, shows its secret once, and never again', async () => {
    const res = await post('/api/v1/notification-topics', {
      name: 'ops',
      description: 'on-call',
      subscriptions: [{ url: 'https://hooks.example.com/a' }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created.secret).toMatch(/^tcwh_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ops', description: 'on-call', subscriptions: [{ url: 'https://hooks.example.com/a' }] });

    const one = await tc.app.inject({ url: '/api/v1/notification-topics/ops' });
    expect(one.statusCode).toBe(200);
    expect(one.body).not.toContain(created.secret);
    expect(one.json()).not.toHaveProperty('secret');
    const list = await tc.app.inject({ url: '/api/v1/notification-topics?name=op' });
    expect(list.json()).toMatchObject({ total: 1, items: [{ name: 'ops' }] });
    expect(list.body).not.toContain(created.secret);

    const rotated = await post('/api/v1/notification-topics/ops/secret');
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).not.toBe(created.secret);
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/ops' })).body).not.toContain(rotated.json().secret);
  });

  it('refuses a taken name with 409 and bad input with 400 naming every field', async () => {
    expect((await post('/api/v1/notification-topics', { name: 'ops' })).statusCode).toBe(409);
    const bad = await post('/api/v1/notification-topics', {
      name: '1 bad',
      description: 'x'.repeat(300),
      subscriptions: [{ url: 'ftp://example.com/' }, { url: 'https://user:pw@example.com/' }, { url: 'not a url' }],
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().fields.map((f: { path: string }) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['name', 'description', 'subscriptions.0.url', 'subscriptions.1.url', 'subscriptions.2.url']),
    );
  });

  it('adds and removes subscriptions; a duplicate URL is a 409, an unknown one a 404', async () => {
    const added = await post('/api/v1/notification-topics/ops/subscriptions', { url: 'http://127.0.0.1:1/hook' });
    expect(added.statusCode, added.body).toBe(201);
    const { id } = added.json();
    expect((await post('/api/v1/notification-topics/ops/subscriptions', { url: 'http://127.0.0.1:1/hook' })).statusCode).toBe(409);
    const badUrl = await post('/api/v1/notification-topics/ops/subscriptions', { url: 'javascript:alert(1)' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().fields[0].path).toBe('url');
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/ops' })).json().subscriptions).toHaveLength(2);

    const del = await tc.app.inject({ method: 'DELETE', url: `/api/v1/notification-topics/ops/subscriptions/${id}` });
    expect(del.statusCode).toBe(204);
    expect((await tc.app.inject({ method: 'DELETE', url: `/api/v1/notification-topics/ops/subscriptions/${id}` })).statusCode).toBe(404);
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/notification-topics/ops/subscriptions/abc' })).statusCode).toBe(400);
  });

  it('updates the description, lists deliveries, deletes, and answers unknown topics with 404', async () => {
    const put = await tc.app.inject({ method: 'PUT', url: '/api/v1/notification-topics/ops', payload: { description: 'changed' } });
    expect(put.statusCode).toBe(200);
    expect(put.json().description).toBe('changed');
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/ops/deliveries' })).json()).toEqual({ items: [], total: 0 });
    expect((await tc.app.inject({ url: '/api/v1/notification-topics/ops/deliveries?state=nope' })).statusCode).toBe(400);

    await post('/api/v1/notification-topics', { name: 'doomed' });
    expect((await tc.app.inject({ method: 'DELETE', url: '/api/v1/notification-topics/doomed' })).statusCode).toBe(204);
    for (const url of ['/api/v1/notification-topics/doomed', '/api/v1/notification-topics/doomed/deliveries']) {
      expect((await tc.app.inject({ url })).statusCode).toBe(404);
    }
    expect((await post('/api/v1/notification-topics/doomed/secret')).statusCode).toBe(404);
    expect((await post('/api/v1/notification-topics/doomed/subscriptions', { url: 'https://x.example/' })).statusCode).toBe(404);
  });

  it('refuses at submit a job whose notification names a topic that does not exist, naming notification.topic', async () => {
    const res = await post(
      '/api/v1/training-jobs',
      jobRequest('notify-missing', 'busybox:latest', 'true', { notification: { topic: 'nope', events: ['OnJobFailed'] } }),
    );
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().fields).toEqual([expect.objectContaining({ path: 'notification.topic' })]);
    expect((await tc.app.inject({ url: '/api/v1/training-jobs?name=notify-missing' })).json().total).toBe(0);
  });

  it('documents the API in OpenAPI', async () => {
    const doc = (await tc.app.inject({ url: '/api/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/notification-topics', '/api/v1/notification-topics/{name}/deliveries']),
    );
  });
});
