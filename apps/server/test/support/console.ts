import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { createDockerClient, DockerEngine } from '../../src/engine/docker/docker-engine.js';
import { DockerNodeAgent, removeAgent } from '../../src/engine/docker/docker-node-agent.js';
import { startEmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { startSwift } from './swift.js';
import { TEST_LABELS } from './images.js';
import { apiToken, injectWithToken, TEST_ADMIN } from './accounts.js';

export interface TestConsole {
  app: FastifyInstance;
  store: S3ObjectStore;
  engine: DockerEngine;
  dataDir: string;
  /** The admin's API token; `app.inject` sends it unless a request sets Authorization or Cookie. */
  adminToken: string;
  /** Inject without any credentials. */
  anonymous: FastifyInstance['inject'];
  /** The object store's address as the console uses it. */
  storeEndpoint: string;
  /** Takes the object store down (fault tests); close() still cleans up. */
  stopStore(): Promise<void>;
  /** Brings a stopped embedded store back on the same address with the same objects. */
  restartStore(): Promise<void>;
  close(): Promise<void>;
}

/** The node agent a test console uses: its own, labelled for the suite's cleanup. */
export function testNodeAgent(nodeRoot: string): (consoleId: string) => DockerNodeAgent {
  // The run's labels: the suite's cleanup removes this process's agents, never another file's.
  return (consoleId) => new DockerNodeAgent(createDockerClient(), { consoleId, nodeRoot, labels: { ...TEST_LABELS } });
}

let nextPort = 19100 + Math.floor(Math.random() * 500);

/**
 * The real console over a throwaway data folder: real SQLite, the real Docker engine and a real
 * S3 server (the embedded one, or Swift for a store that checks signatures and holds long keys).
 * Containers carry tc.test=1 so the suite's cleanup finds them.
 */
export async function startTestConsole(
  kind: 'embedded' | 'swift',
  env: Record<string, string> = {},
  opts: {
    signIn: boolean;
    /** The console talks to this address instead of the store started for it (fault tests). */
    storeEndpoint?: string;
    storeOptions?: S3ObjectStoreOptions;
  } = { signIn: true },
): Promise<TestConsole> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tc-test-'));
  const embedded = { port: nextPort++, dir: path.join(dataDir, 's3'), accessKeyId: 'TESTKEY', secretAccessKey: 'TESTSECRET' };
  let s3 = kind === 'swift' ? await startSwift() : await startEmbeddedS3(embedded);
  const config = loadConfig({
    DATA_DIR: dataDir,
    S3_REGION: s3.region,
    LOG_LEVEL: 'warn',
    ADMIN_PASSWORD: TEST_ADMIN.password,
    // Tests sign in often from one address; the limit itself is tested with its default.
    SIGN_IN_PER_MINUTE: '1000',
    ...env,
  });
  const store = new S3ObjectStore(
    createS3Client({
      endpoint: opts.storeEndpoint ?? s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    }),
    opts.storeOptions,
  );
  const docker = createDockerClient();
  const engine = new DockerEngine(docker);
  const db = openDatabase(path.join(dataDir, 'console.db'));
  const app = await buildApp(config, {
    db,
    store,
    engine,
    nodeAgent: testNodeAgent(config.nodeRoot),
    containerLabels: { 'tc.test': '1' },
  });
  await app.ready();
  // Without signing in (a console waiting for its setup), app.inject stays anonymous.
  const adminToken = opts.signIn ? await apiToken(app, TEST_ADMIN.username, TEST_ADMIN.password) : '';
  const anonymous = opts.signIn ? injectWithToken(app, adminToken) : app.inject.bind(app);
  return {
    app,
    store,
    engine,
    dataDir,
    adminToken,
    anonymous,
    storeEndpoint: opts.storeEndpoint ?? s3.endpoint,
    stopStore: () => s3.stop(),
    async restartStore() {
      if (kind !== 'embedded') throw new Error('only the embedded store can be restarted');
      await s3.stop();
      s3 = await startEmbeddedS3(embedded);
    },
    async close() {
      // Queued jobs start as others end; wait until nothing is left to start or finish, but not
      // for ever: a job that never ends is a defect, and the message names it.
      let stuck: Error | null = null;
      try {
        await waitFor('the console to settle', () => openJobs(app).then((open) => open.length === 0), CLOSE_WAIT_MS);
        await app.runner.idle();
      } catch {
        const open = await openJobs(app);
        stuck = new Error(`close: jobs still open after ${CLOSE_WAIT_MS / 1000} s: ${open.join('; ') || '(none; the runner still busy)'}`);
      }
      await app.close();
      db.close();
      await s3.stop();
      // Each test console has its own agent on the engine; nothing else would remove it.
      await removeAgent(docker, readFileSync(path.join(dataDir, 'console-id'), 'utf8').trim()).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
      if (stuck) throw stuck;
    },
  };
}

/** How long close() waits for the console's jobs to end before it names them and gives up. */
const CLOSE_WAIT_MS = 90_000;

/** Each job not yet ended, as "name version status (last event: …)". */
async function openJobs(app: FastifyInstance): Promise<string[]> {
  const out: string[] = [];
  for (const status of ['Queuing', 'Initializing', 'Running', 'Stopping']) {
    const page = (await app.inject({ url: `/api/v1/training-jobs?status=${status}&pageSize=100` })).json() as {
      items: { name: string; version: string }[];
    };
    for (const j of page.items) {
      const full = (await app.inject({ url: `/api/v1/training-jobs/${j.name}/versions/${j.version}` })).json() as {
        events: { type: string; message: string }[];
      };
      const last = full.events.at(-1);
      out.push(`${j.name} ${j.version} ${status}${last ? ` (last event: ${last.type}: ${last.message})` : ''}`);
    }
  }
  return out;
}

/**
 * Polls until the condition holds or the deadline passes; never a fixed sleep. The error names
 * what it waited for, so a test that gives up says why.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function uploadText(store: S3ObjectStore, bucket: string, files: Record<string, string>): Promise<void> {
  await store.createBucket(bucket);
  for (const [key, text] of Object.entries(files)) await store.upload(bucket, key, Buffer.from(text));
}

export async function readObject(store: S3ObjectStore, bucket: string, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await store.getStream(bucket, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
