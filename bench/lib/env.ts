import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { buildBusyboxImage } from '../../apps/server/src/engine/docker/build-image.js';
import { AGENT_LABEL } from '../../apps/server/src/engine/docker/agent-image.js';
import { createDockerClient } from '../../apps/server/src/engine/docker/docker-engine.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../../apps/server/src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../../apps/server/src/storage/s3-client.js';
import { S3ObjectStore } from '../../apps/server/src/storage/s3-object-store.js';
import { startServer, type BenchServer } from './server.js';

const run = promisify(execFile);

/** Marks everything the bench makes on the engine; containers inherit it from the image. */
export const BENCH_RUN = randomUUID().slice(0, 8);
export const BENCH_LABELS: Readonly<Record<string, string>> = { 'tc.bench': '1', 'tc.bench.run': BENCH_RUN };
export const BUCKET = 'bench';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  dockerVersion: string;
  storageDriver: string;
  rclone: string;
}

/** What every benchmark shares: one embedded store, one image, one console server, a temp dir. */
export class BenchEnv {
  private server: BenchServer | null = null;
  private readonly extraServers = new Set<BenchServer>();
  private rcloneChecked: Promise<void> | null = null;

  private constructor(
    readonly tmp: string,
    readonly s3: EmbeddedS3,
    readonly store: S3ObjectStore,
    readonly docker: Dockerode,
    readonly image: string,
    readonly quick: boolean,
  ) {}

  static async create(quick: boolean): Promise<BenchEnv> {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tc-bench-'));
    const s3 = await startEmbeddedS3({
      port: 23000 + Math.floor(Math.random() * 5000),
      dir: path.join(tmp, 's3'),
      accessKeyId: 'BENCHKEY',
      secretAccessKey: 'BENCHSECRET',
    });
    const store = new S3ObjectStore(createS3Client(s3));
    await store.createBucket(BUCKET);
    // The code every job gets, and an almost empty data folder for the jobs that need no data.
    await store.upload(BUCKET, 'code/train.sh', 'echo ready\n');
    await store.upload(BUCKET, 'tiny/a.csv', 'x,y\n1,2\n');
    const docker = createDockerClient();
    const image = `tc-bench/busybox:${BENCH_RUN}`;
    await buildBusyboxImage(docker, { tag: image, user: '1101:1101', labels: { ...BENCH_LABELS } });
    return new BenchEnv(tmp, s3, store, docker, image, quick);
  }

  /** Repetitions: `full` normally, `quick` with --quick. */
  reps(full: number, quick = 1): number {
    return this.quick ? quick : full;
  }

  /** The console server over the bench's data dir (started once, shared). */
  async console(): Promise<BenchServer> {
    this.server ??= await startServer({ dataDir: path.join(this.tmp, 'console'), s3: this.s3 });
    return this.server;
  }

  /** A console server of its own (fresh data dir), stopped by the caller or at the end. */
  async freshConsole(name: string, before?: (dataDir: string) => void | Promise<void>): Promise<BenchServer> {
    const dataDir = mkdtempSync(path.join(this.tmp, `${name}-`));
    await before?.(dataDir);
    const s = await startServer({ dataDir, s3: this.s3 });
    this.extraServers.add(s);
    const stop = s.stop.bind(s);
    s.stop = async () => {
      this.extraServers.delete(s);
      await stop();
    };
    return s;
  }

  /**
   * rclone is the baseline of the staging and upload benchmarks: without it they cannot run.
   * Not installed here on purpose (the bench is not part of `npm test`); Debian packages it.
   */
  requireRclone(): Promise<void> {
    this.rcloneChecked ??= run('rclone', ['version']).then(
      () => undefined,
      () => {
        throw new Error(
          'rclone, the baseline of the staging and upload benchmarks, is not installed. Install it (Debian package): ' +
            'sudo apt-get update && sudo apt-get install -y --no-install-recommends rclone',
        );
      },
    );
    return this.rcloneChecked;
  }

  /**
   * The node agent container of a console the bench started (one per console, named after its
   * console id): the one whose node root is that console's <dataDir>/node.
   */
  async agentContainer(s: BenchServer): Promise<string> {
    const root = path.join(path.resolve(s.dataDir), 'node');
    const list = await this.docker.listContainers({ filters: { label: [AGENT_LABEL] } });
    const c = list.find((x) => x.Mounts.some((m) => m.Source === root));
    if (!c) throw new Error(`no running node agent with ${root} mounted`);
    return c.Id;
  }

  /**
   * Every console the bench started has its own node agent container, left running when the
   * console stops (it restarts with it); those whose node root is under this run's temp dir go.
   */
  private async removeAgents(): Promise<void> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [AGENT_LABEL] } });
    const mine = list.filter((c) => c.Mounts.some((m) => m.Source.startsWith(`${this.tmp}/`)));
    await Promise.all(mine.map((c) => this.docker.getContainer(c.Id).remove({ force: true })));
  }

  rcloneEnv(): NodeJS.ProcessEnv {
    // The store is plain HTTP on loopback; rclone refuses to start with a CA bundle it cannot use.
    const { AWS_CA_BUNDLE: _ca, ...rest } = process.env;
    return {
      ...rest,
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
      RCLONE_CONFIG_BENCH_ENDPOINT: this.s3.endpoint,
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: this.s3.accessKeyId,
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: this.s3.secretAccessKey,
      RCLONE_CONFIG_BENCH_REGION: this.s3.region,
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
    };
  }

  /** A fresh folder under the bench's temp dir. */
  mkdtemp(name: string): string {
    return mkdtempSync(path.join(this.tmp, `${name}-`));
  }

  async machine(): Promise<Machine> {
    const info = (await this.docker.info()) as { ServerVersion?: string; Driver?: string };
    const rclone = await run('rclone', ['version']).then(
      (r) => r.stdout.split('\n')[0] ?? '',
      () => 'not found',
    );
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      dockerVersion: info.ServerVersion ?? 'unknown',
      storageDriver: info.Driver ?? 'unknown',
      rclone,
    };
  }

  /** Stops the servers and the store, removes this run's containers and image, and the temp dir. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const s of [...this.extraServers]) await attempt(() => s.stop());
    if (this.server) await attempt(() => this.server!.stop());
    await attempt(() => removeBenchContainers(this.docker));
    await attempt(() => this.removeAgents());
    await attempt(() => this.docker.getImage(this.image).remove({ force: true }));
    await attempt(() => this.s3.stop());
    rmSync(this.tmp, { recursive: true, force: true });
    if (errors.length) process.stderr.write(`clean-up: ${errors.map((e) => (e as Error).message).join('; ')}\n`);
  }
}

export async function removeBenchContainers(docker: Dockerode): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`tc.bench.run=${BENCH_RUN}`] } });
  await Promise.all(
    list.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
}
