import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDelivery } from '@tc/contracts';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { createDockerClient, DockerEngine } from '../../src/engine/docker/docker-engine.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { buildTestImage, removeTestContainers, removeTestImages } from '../support/images.js';
import { jobRequest } from '../support/jobs.js';
import { testNodeAgent, uploadText, waitFor } from '../support/console.js';
import { startReceiver, type Receiver } from './receiver.js';
import { apiToken, injectWithToken, TEST_ADMIN } from '../support/accounts.js';

/**
 * Two consoles, one after the other, over the same DATA_DIR: what a restart is. The object store
 * and the engine outlive both, as they do in production.
 */
let dataDir: string;
let s3: EmbeddedS3;
let store: S3ObjectStore;
let engine: DockerEngine;
let rootImage: string;
let receiver: Receiver;

interface Console {
  app: FastifyInstance;
  db: Db;
}

async function open(): Promise<Console> {
  const config = loadConfig({
    DATA_DIR: dataDir,
    S3_REGION: s3.region,
    LOG_LEVEL: 'warn',
    NOTIFY_RETRY_BASE_MS: '200',
    NOTIFY_MAX_ATTEMPTS: '20',
    NOTIFY_POLL_MS: '50',
    // The receiver listens on loopback, which webhooks reach only when allowed.
    WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    ADMIN_PASSWORD: TEST_ADMIN.password,
  });
  const db = openDatabase(path.join(dataDir, 'console.db'));
  const app = await buildApp(config, {
    db,
    store,
    engine,
    nodeAgent: testNodeAgent(config.nodeRoot),
    containerLabels: { 'tc.test': '1' },
  });
  await app.ready();
  // Each process signs in anew, as a script would after a restart.
  injectWithToken(app, await apiToken(app, TEST_ADMIN.username, TEST_ADMIN.password));
  return { app, db };
}

async function close(c: Console): Promise<void> {
  await c.app.runner.idle();
  await c.app.close();
  c.db.close();
}

async function deliveries(c: Console): Promise<NotificationDelivery[]> {
  return (await c.app.inject({ url: '/api/v1/notification-topics/restart/deliveries' })).json().items;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'tc-notify-restart-'));
  s3 = await startEmbeddedS3({
    port: 19700 + Math.floor(Math.random() * 200),
    dir: path.join(dataDir, 's3'),
    accessKeyId: 'TESTKEY',
    secretAccessKey: 'TESTSECRET',
  });
  store = new S3ObjectStore(
    createS3Client({ endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }),
  );
  engine = new DockerEngine(createDockerClient());
  [rootImage] = await Promise.all([buildTestImage('root'), uploadText(store, 'jobs', { 'code/run.sh': 'true', 'data/a.txt': 'A' })]);
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await s3?.stop();
  rmSync(dataDir, { recursive: true, force: true });
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
