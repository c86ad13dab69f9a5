import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { keptValue } from './kept-value.js';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type S3Settings } from './config.js';
import { openDatabase } from './db/database.js';
import { createDockerClient, DockerEngine } from './engine/docker/docker-engine.js';
import { DockerNodeAgent, removeAgent } from './engine/docker/docker-node-agent.js';
import { SwarmEngine } from './engine/swarm/swarm-engine.js';
import { SwarmNodeAgent, removeSwarmAgent } from './engine/swarm/swarm-node-agent.js';
import type { ContainerEngine } from './engine/container-engine.js';
import type { NodeAgent } from './engine/node-agent.js';
import { startEmbeddedS3 } from './storage/embedded/embedded-s3.js';
import { createS3Client } from './storage/s3-client.js';
import { S3ObjectStore } from './storage/s3-object-store.js';
import { DEMO_IMAGE_USER, seedDemo } from './demo/seed-demo.js';
import { buildBusyboxImage } from './engine/docker/build-image.js';

/**
 * The process: reads the configuration, starts the embedded defaults where nothing is
 * configured, wires the real adapters into buildApp, and closes cleanly on SIGINT/SIGTERM.
 * Running jobs' containers are left alone on shutdown.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  const demo = process.argv.includes('--demo');
  const demoPassword = demo ? demoAdminPassword(config.dataDir, config.auth.adminPassword) : null;
  if (demoPassword) config.auth.adminPassword = demoPassword.password;

  let s3: S3Settings;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (config.s3) {
    s3 = config.s3;
  } else {
    const keys = embeddedKeys(config.dataDir);
    const embedded = await startEmbeddedS3({
      port: config.embeddedS3Port,
      host: config.embeddedS3Host,
      dir: path.join(config.dataDir, 's3'),
      ...keys,
    });
    s3 = {
      endpoint: embedded.endpoint,
      region: config.s3Region,
      accessKeyId: embedded.accessKeyId,
      secretAccessKey: embedded.secretAccessKey,
    };
    stopEmbedded = () => embedded.stop();
  }

  const store = new S3ObjectStore(createS3Client(s3));
  const docker = createDockerClient(config.dockerHost);
  const db = openDatabase(path.join(config.dataDir, 'console.db'));
  let agentOf: string | null = null;
  let engine: ContainerEngine;
  let nodeAgent: (id: string) => NodeAgent;
  const settings = config.engine;
  if (settings.kind === 'swarm') {
    await assertSwarmManager(docker, config.dockerHost);
    const swarm = new SwarmEngine(docker, { registry: settings.registry, stopGraceSeconds: config.stopGraceSeconds });
    engine = swarm;
    // The agents' shared secret, kept so a restarted console still speaks to the running agents.
    const token = keptValue(path.join(config.dataDir, 'agent-token'), () => randomBytes(24).toString('base64url'));
    nodeAgent = (id) => {
      agentOf = id;
      return new SwarmNodeAgent(docker, {
        consoleId: id,
        nodeRoot: config.nodeRoot,
        registry: settings.registry,
        token,
        port: settings.agentPort,
        nodes: () => swarm.nodes(),
      });
    };
  } else {
    engine = new DockerEngine(docker);
    nodeAgent = (id) => {
      agentOf = id;
      return new DockerNodeAgent(docker, { consoleId: id, nodeRoot: config.nodeRoot });
    };
  }
  const app = await buildApp(config, { db, store, engine, nodeAgent });

  const shutdown = async (signal: string) => {
    app.log.info(`${signal}: closing`);
    await app.close();
    // The agent is only needed while the console drives a transfer; the next start makes it
    // again in a fraction of a second (and a killed console's is reused).
    if (agentOf) await (settings.kind === 'swarm' ? removeSwarmAgent : removeAgent)(docker, agentOf).catch(() => undefined);
    db.close();
    await stopEmbedded?.();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  // A promise rejected with nobody listening is a bug (the runner settles each job's promises
  // itself; see supervise), but it is one job's bug: Node's default would end the console and
  // every other job with it. It is logged loudly instead.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection (a bug): the console carries on'));

  await app.recover();
  await app.listen({ port: config.port, host: config.host });

  if (demo) {
    const seeded = await seedDemo({
      store,
      engine,
      buildImage: async (tag) => {
        await buildBusyboxImage(docker, { tag, user: DEMO_IMAGE_USER, labels: { 'tc.demo': '1' } });
      },
      log: (m) => app.log.info(m),
    });
    const token = app.accounts.replaceToken('admin', 'demo (npm start)');
    printBanner(config.port, s3, !config.s3, {
      signIn: demoPassword?.file ? `admin, password in ${demoPassword.file}: ${demoPassword.password}` : 'admin, with ADMIN_PASSWORD',
      curl: token
        ? [
            `export TC_TOKEN=${token.token}`,
            `curl -s -X POST localhost:${config.port}/api/v1/training-jobs -H "authorization: Bearer $TC_TOKEN" -H 'content-type: application/json' -d '${seeded.requestBody}'`,
          ]
        : [],
    });
  } else {
    printBanner(config.port, s3, !config.s3, null);
  }
}

/** ENGINE=swarm is refused at start unless DOCKER_HOST answers as a manager of a swarm. */
async function assertSwarmManager(docker: ReturnType<typeof createDockerClient>, host: string | undefined): Promise<void> {
  const where = host ?? 'the local engine';
  let info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
  try {
    info = (await docker.info()) as typeof info;
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  DOCKER_HOST: ${where} does not answer: ${(err as Error).message}`);
  }
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
    throw new ConfigError(
      `invalid configuration:\n  DOCKER_HOST: ENGINE=swarm, but ${where} is not a swarm manager (swarm state: ${info.Swarm?.LocalNodeState ?? 'unknown'})`,
    );
  }
}

/**
 * The demo's admin password: ADMIN_PASSWORD when given, else one made on the first demo start
 * and kept in the data folder (0600), so `npm start` is ready to sign in without a setup step.
 */
function demoAdminPassword(dataDir: string, given: string | undefined): { password: string; file: string | null } {
  if (given) return { password: given, file: null };
  const file = path.join(dataDir, 'admin-password');
  return { password: keptValue(file, () => randomBytes(12).toString('base64url')), file };
}

/** Keys of the embedded store, made once and kept, so tools configured with them keep working. */
function embeddedKeys(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  const file = path.join(dataDir, 'embedded-s3-credentials.json');
  const make = () =>
    JSON.stringify(
      { accessKeyId: `TC${randomBytes(9).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') },
      null,
      2,
    );
  return JSON.parse(keptValue(file, make)) as { accessKeyId: string; secretAccessKey: string };
}

function printBanner(port: number, s3: S3Settings, embedded: boolean, demo: { signIn: string; curl: string[] } | null): void {
  const lines = [
    '',
    `  Training console     http://localhost:${port}/`,
    `  API docs (OpenAPI)   http://localhost:${port}/api/docs`,
    '',
    `  Object store${embedded ? ' (embedded, loopback only; production uses a real S3 store)' : ''}`,
    `    endpoint           ${s3.endpoint}`,
    `    region             ${s3.region}`,
    `    access key id      ${s3.accessKeyId}`,
    `    secret access key  ${s3.secretAccessKey}`,
    '',
    '  Use it with your own tools, e.g.:',
    `    AWS_ACCESS_KEY_ID=${s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s3.secretAccessKey} AWS_DEFAULT_REGION=${s3.region} \\`,
    `      aws --endpoint-url ${s3.endpoint} s3 ls s3://demo/ --recursive`,
  ];
  if (demo) {
    lines.push('', `  Sign in as           ${demo.signIn}`);
    if (demo.curl.length) lines.push('', '  Demo ready. Submit the demo training job with:', ...demo.curl.map((l) => `    ${l}`));
  }
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`the console could not start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
