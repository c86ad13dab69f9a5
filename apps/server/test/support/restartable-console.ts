import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { createDockerClient, DockerEngine } from '../../src/engine/docker/docker-engine.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { apiToken, injectWithToken, TEST_ADMIN } from './accounts.js';
import { testNodeAgent } from './console.js';

export interface OpenedConsole {
  app: FastifyInstance;
  db: Db;
}

/**
 * One DATA_DIR, with an object store and an engine that outlive the consoles opened over it one
 * after the other: what a restart is. Each console signs in anew, as a script would.
 */
export class RestartableConsole {
  private constructor(
    readonly dataDir: string,
    readonly s3: EmbeddedS3,
    readonly store: S3ObjectStore,
    readonly engine: DockerEngine,
  ) {}

  /** `ports`: the range the store's port is drawn from, apart from other test files' ranges. */
  static async create(prefix: string, ports: { from: number; count: number }): Promise<RestartableConsole> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), prefix));
    const s3 = await startEmbeddedS3({
      port: ports.from + Math.floor(Math.random() * ports.count),
      dir: path.join(dataDir, 's3'),
      accessKeyId: 'TESTKEY',
      secretAccessKey: 'TESTSECRET',
    });
    const store = new S3ObjectStore(createS3Client(s3));
    return new RestartableConsole(dataDir, s3, store, new DockerEngine(createDockerClient()));
  }

  /** A console over the data folder; `env` on top of the test defaults (config is validated as at start). */
  async open(env: Record<string, string> = {}): Promise<OpenedConsole> {
    const config = loadConfig({
      DATA_DIR: this.dataDir,
      S3_REGION: this.s3.region,
      LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: TEST_ADMIN.password,
      ...env,
    });
    const db = openDatabase(path.join(this.dataDir, 'console.db'));
    const app = await buildApp(config, {
      db,
      store: this.store,
      engine: this.engine,
      nodeAgent: testNodeAgent(config.nodeRoot),
      containerLabels: { 'tc.test': '1' },
    });
    await app.ready();
    injectWithToken(app, await apiToken(app, TEST_ADMIN.username, TEST_ADMIN.password));
    return { app, db };
  }

  /** Waits for its jobs' runs to settle, then closes it as a stopping process would. */
  async close(c: OpenedConsole): Promise<void> {
    await c.app.runner.idle();
    await c.app.close();
    c.db.close();
  }

  async dispose(): Promise<void> {
    await this.s3.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
