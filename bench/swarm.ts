import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import type { TrainingJob } from '@tc/contracts';
import { AGENT_LABEL } from '../apps/server/src/engine/docker/agent-image.js';
import { buildBusyboxImage } from '../apps/server/src/engine/docker/build-image.js';
import { createDockerClient } from '../apps/server/src/engine/docker/docker-engine.js';
import { removeSwarmAgent } from '../apps/server/src/engine/swarm/swarm-node-agent.js';
import { startEmbeddedS3 } from '../apps/server/src/storage/embedded/embedded-s3.js';
import { createS3Client } from '../apps/server/src/storage/s3-client.js';
import { S3ObjectStore } from '../apps/server/src/storage/s3-object-store.js';
import {
  ensureSwarmLab,
  LAB_HOST_ADDR,
  LAB_NODES,
  LAB_REGISTRY,
  managerSocket,
  nodeSocket,
} from '../apps/server/test/support/swarm-lab.js';
import { BENCH_LABELS, BENCH_RUN, BUCKET, type BenchEnv } from './lib/env.js';
import type { Row } from './lib/report-types.js';
import { deleteJob, ENDED, eventAt, jobRequest, stagingWindow, startServer, type BenchServer } from './lib/server.js';
import { median, sleep } from './lib/stats.js';

const run = promisify(execFile);

/** The rank's boot command: up at once, then alive long enough to be seen running by both sides. */
const BOOT = 'echo ready; sleep 30';
const RANKS = 3;
const FLAVOR = 'cpu.small';
const POLL_MS = 25;

interface Task {
  ServiceID?: string;
  NodeID?: string;
  Status?: { State?: string; Timestamp?: string; Err?: string };
}
interface Service {
  ID: string;
  CreatedAt?: string;
  Spec?: { Name?: string; TaskTemplate?: { Resources?: unknown; Placement?: { Constraints?: string[] } } };
}

/** The engine's own view of a set of services: when the first was made, when the last task ran. */
interface EngineView {
  firstCreated: number;
  lastRunning: number;
}

async function engineView(m: Dockerode, serviceIds: string[]): Promise<EngineView> {
  const services = (await Promise.all(serviceIds.map((id) => m.getService(id).inspect()))) as Service[];
  const tasks = (await m.listTasks({ filters: { service: serviceIds } })) as Task[];
  const running = tasks.filter((t) => t.Status?.State === 'running');
  return {
    firstCreated: Math.min(...services.map((s) => Date.parse(s.CreatedAt ?? ''))),
    lastRunning: Math.max(...running.map((t) => Date.parse(t.Status?.Timestamp ?? ''))),
  };
}

/** Polls the services' tasks until each service has a running one; a task that failed is an error. */
async function untilTasksRunning(m: Dockerode, serviceIds: string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = (await m.listTasks({ filters: { service: serviceIds } })) as Task[];
    const bad = tasks.find((t) => ['failed', 'rejected', 'orphaned'].includes(t.Status?.State ?? ''));
    if (bad) throw new Error(`a baseline task ${bad.Status?.State}: ${bad.Status?.Err ?? ''}`);
    const up = new Set(tasks.filter((t) => t.Status?.State === 'running').map((t) => t.ServiceID));
    if (serviceIds.every((id) => up.has(id))) return;
    if (Date.now() > deadline) throw new Error(`the baseline's tasks were not all running within ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

/** Removes the services and then their network (busy for a moment while the nodes release it). */
async function removeServicesAndNetwork(m: Dockerode, serviceIds: string[], networkId: string | null): Promise<void> {
  await Promise.all(
    serviceIds.map((id) =>
      m
        .getService(id)
        .remove()
        .catch(() => undefined),
    ),
  );
  if (!networkId) return;
  for (let attempt = 0; ; attempt++) {
    try {
      await m.getNetwork(networkId).remove();
      return;
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 404) return;
      if (attempt >= 60) throw err;
      await sleep(250);
    }
  }
}

const offsets = (xs: Record<string, number>[]): string =>
  Object.keys(xs[0] ?? {})
    .map((k) => `${k} ${Math.round(median(xs.map((p) => p[k]!)))} ms`)
    .join('; ');

/**
 * Submit → every rank running of a 3-node job on the swarm lab (ENGINE=swarm, three engines in
 * their own network namespaces), against what the job amounts to on the swarm: an internal
 * overlay and three pinned one-replica services of the same image digest, made through the
 * manager's API, → their three tasks running.
 */
export async function swarm(env: BenchEnv): Promise<Row[]> {
  await ensureSwarmLab();
  const m = createDockerClient(managerSocket());
  const dir = env.mkdtemp('swarm');
  const dataDir = path.join(dir, 'console');
  const labels = { ...BENCH_LABELS, 'tc.bench.what': 'swarm' };
  const image = `${LAB_REGISTRY}/tc-bench/swarm:${BENCH_RUN}`;
  const s3 = await startEmbeddedS3({
    host: LAB_HOST_ADDR,
    port: 29000 + Math.floor(Math.random() * 900),
    dir: path.join(dir, 's3'),
    accessKeyId: 'BENCHKEY',
    secretAccessKey: 'BENCHSECRET',
  });
  let s: BenchServer | null = null;
  let consoleId: string | null = null;
  const baselineLeft: { services: string[]; network: string | null }[] = [];
  try {
    const store = new S3ObjectStore(createS3Client(s3));
    await store.createBucket(BUCKET);
    await store.upload(BUCKET, 'code/train.sh', 'echo ready\n');
    await store.upload(BUCKET, 'tiny/a.csv', 'x,y\n1,2\n');
    await buildBusyboxImage(m, { tag: image, user: '1101:1101', labels });
    await run('docker', ['-H', managerSocket(), 'push', image], { maxBuffer: 1 << 22 });

    const configFile = path.join(dir, 'console.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        pools: [{ id: 'public', name: 'Public', flavors: [{ id: FLAVOR, type: 'CPU', vcpus: 0.25, memoryGiB: 0.25, gpus: 0 }] }],
      }),
    );
    s = await startServer({
      dataDir,
      s3,
      env: {
        ENGINE: 'swarm',
        DOCKER_HOST: managerSocket(),
        REGISTRY: LAB_REGISTRY,
        AGENT_PORT: String(8100 + Math.floor(Math.random() * 100)),
        CONFIG_FILE: configFile,
      },
    });
    const srv = s;
    consoleId = readFileSync(path.join(dataDir, 'console-id'), 'utf8').trim();
    const labNodes = (await m.listNodes()) as { ID: string; Description?: { Hostname?: string; Resources?: { NanoCPUs?: number } } }[];
    const nodeIds = new Map(labNodes.map((n) => [n.Description?.Hostname ?? '', n.ID]));
    const labVcpus = labNodes.reduce((sum, n) => sum + (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9, 0);
    /**
     * Other sessions use the lab too (the swarm tests label node 3 for a pool, run jobs, kill a
     * node's engine): each run waits until every node is Ready, unlabelled and free of others'
     * job services, so neither side is timed against a busy or missing node.
     */
    const untilLabQuiet = async (): Promise<void> => {
      for (let i = 0; ; i++) {
        await ensureSwarmLab();
        const nodes = (await m.listNodes()) as { Spec?: { Labels?: Record<string, string> }; Status?: { State?: string } }[];
        // Services whose tasks have ended (a killed test's leftovers) take nothing from the nodes.
        const live = new Set(((await m.listTasks({ filters: { 'desired-state': ['running'] } })) as Task[]).map((t) => t.ServiceID));
        const services = (await m.listServices()) as { ID: string; Spec?: { Labels?: Record<string, string> } }[];
        const foreign = services.filter((x) => {
          const l = x.Spec?.Labels ?? {};
          return live.has(x.ID) && l[AGENT_LABEL] !== '1' && l['tc.console'] !== consoleId && l['tc.bench.run'] !== BENCH_RUN;
        });
        const quiet =
          nodes.length === LAB_NODES && nodes.every((n) => n.Status?.State === 'ready' && !n.Spec?.Labels?.['tc.pool']) && !foreign.length;
        if (quiet) return;
        if (i === 0) process.stderr.write('  waiting for the lab to be free of other work…\n');
        if (i > 1200) throw new Error('the swarm lab stayed busy with other work for 10 minutes');
        await sleep(500);
      }
    };

    // The console refreshes its view of the nodes every few seconds: a job submitted before it
    // sees all three would be refused or queue and time the wait.
    const untilPoolReady = async (): Promise<void> => {
      for (let i = 0; ; i++) {
        const pools = await srv.api<
          { id: string; capacity: { vcpus: number } }[] | { items: { id: string; capacity: { vcpus: number } }[] }
        >('GET', '/api/v1/resource-pools');
        const list = Array.isArray(pools) ? pools : pools.items;
        if ((list.find((p) => p.id === 'public')?.capacity.vcpus ?? 0) >= labVcpus) return;
        if (i > 1200) throw new Error('the console never saw all the swarm nodes');
        await sleep(100);
      }
    };

    const getJob = (j: Pick<TrainingJob, 'name' | 'version'>) =>
      srv.api<TrainingJob>('GET', `/api/v1/training-jobs/${j.name}/versions/${j.version}`);

    const consoleRun = async (n: number) => {
      const body = {
        ...jobRequest(`bench-swarm-${n}`, image, BOOT, `obs://${BUCKET}/tiny/`, `obs://${BUCKET}/out/swarm-${n}/`),
        resources: { pool: 'public', type: 'CPU', flavor: FLAVOR, nodes: RANKS },
      };
      await untilLabQuiet();
      await untilPoolReady();
      const t0 = Date.now();
      const p0 = performance.now();
      const job = await srv.api<TrainingJob>('POST', '/api/v1/training-jobs', body);
      let j: TrainingJob;
      for (;;) {
        j = await getJob(job);
        if (j.status === 'Running' && j.nodes.length === RANKS && j.nodes.every((x) => x.state === 'running')) break;
        if (ENDED.includes(j.status)) throw new Error(`${j.name} ended ${j.status} before running: ${j.reason ?? ''}`);
        await sleep(POLL_MS);
      }
      const ms = performance.now() - p0;
      const services = (await m.listServices({ filters: { label: [`tc.console=${consoleId}`, `tc.job-id=${j.id}`] } })) as Service[];
      const view = await engineView(
        m,
        services.map((x) => x.ID),
      );
      const byRank = j.nodes.map((x) => x.host ?? '');
      const spec = services[0]?.Spec?.TaskTemplate?.Resources;
      await srv.api('POST', `/api/v1/training-jobs/${j.name}/versions/${j.version}/stop`);
      let end: TrainingJob;
      for (;;) {
        end = await getJob(j);
        if (ENDED.includes(end.status)) break;
        await sleep(100);
      }
      const staged = stagingWindow(end);
      const started = Date.parse(end.startedAt ?? '');
      const at = {
        'created (Queuing)': Date.parse(end.createdAt) - t0,
        'image checked (a registry lookup through the manager)': eventAt(end, 'image-check') - t0,
        'staging starts on the nodes': staged.from - t0,
        'staging ends': staged.to - t0,
        'first service created': view.firstCreated - t0,
        'last task running (engine stamp)': view.lastRunning - t0,
        'job Running': started - t0,
        'seen by the poll': ms,
      };
      const events = end.events.map((e) => `${e.type}@${Date.parse(e.at) - t0}`).join(' ');
      await deleteJob(srv, end);
      return {
        ms,
        engineMs: view.lastRunning - t0,
        tasksMs: view.lastRunning - view.firstCreated,
        at,
        byRank,
        spec,
        events,
        digest: end.imageDigest,
      };
    };

    const baselineRun = async (n: number, hosts: string[], digest: string, resources: unknown) => {
      await untilLabQuiet();
      const rec = { services: [] as string[], network: null as string | null };
      baselineLeft.push(rec);
      const t0 = Date.now();
      const p0 = performance.now();
      rec.network = (
        await m.createNetwork({
          Name: `tc-bench-swarm-${BENCH_RUN}-${n}`,
          Driver: 'overlay',
          Internal: true,
          Attachable: false,
          CheckDuplicate: true,
          Labels: labels,
        })
      ).id;
      const ids = await Promise.all(
        hosts.map(async (host, i) => {
          const created = await m.createService({
            Name: `tc-bench-swarm-${BENCH_RUN}-${n}-${i}`,
            Labels: labels,
            Mode: { Replicated: { Replicas: 1 } },
            TaskTemplate: {
              ContainerSpec: { Image: digest, Command: ['sh', '-c', BOOT], Labels: labels, Init: true },
              Resources: resources,
              RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
              Placement: { Constraints: [`node.id==${nodeIds.get(host) ?? host}`] },
              Networks: [{ Target: rec.network! }],
            },
            EndpointSpec: { Mode: 'dnsrr' },
          } as unknown as Dockerode.CreateServiceOptions);
          rec.services.push(created.id as string);
          return created.id as string;
        }),
      );
      await untilTasksRunning(m, ids);
      const ms = performance.now() - p0;
      const view = await engineView(m, ids);
      await removeServicesAndNetwork(m, rec.services, rec.network);
      baselineLeft.splice(baselineLeft.indexOf(rec), 1);
      return { ms, engineMs: view.lastRunning - t0, tasksMs: view.lastRunning - view.firstCreated };
    };

    /** The same three services through the CLI, as a user would type them (once, as a note). */
    const cliRun = async (hosts: string[], digest: string, cpus: number, memoryBytes: number) => {
      const net = `tc-bench-swarm-${BENCH_RUN}-cli`;
      const lab = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
      const rec = { services: [] as string[], network: null as string | null };
      baselineLeft.push(rec);
      const p0 = performance.now();
      rec.network = (
        await run('docker', ['-H', managerSocket(), 'network', 'create', '-d', 'overlay', '--internal', ...lab, net])
      ).stdout.trim();
      const ids = await Promise.all(
        hosts.map(async (host, i) => {
          const out = await new Promise<string>((resolve, reject) => {
            const p = spawn(
              'docker',
              [
                '-H',
                managerSocket(),
                'service',
                'create',
                '--detach',
                '--quiet',
                '--name',
                `${net}-${i}`,
                ...lab,
                '--container-label',
                `tc.bench.run=${BENCH_RUN}`,
                '--init',
                '--restart-condition',
                'none',
                '--endpoint-mode',
                'dnsrr',
                '--network',
                net,
                '--constraint',
                `node.id==${nodeIds.get(host) ?? host}`,
                '--limit-cpu',
                String(cpus),
                '--limit-memory',
                String(memoryBytes),
                '--reserve-cpu',
                String(cpus),
                '--reserve-memory',
                String(memoryBytes),
                digest,
                'sh',
                '-c',
                BOOT,
              ],
              { stdio: ['ignore', 'pipe', 'inherit'] },
            );
            let text = '';
            p.stdout.on('data', (d: Buffer) => (text += d.toString()));
            p.on('exit', (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`docker service create exited with ${code}`))));
          });
          rec.services.push(out);
          return out;
        }),
      );
      await untilTasksRunning(m, ids);
      const ms = performance.now() - p0;
      await removeServicesAndNetwork(m, rec.services, rec.network);
      baselineLeft.splice(baselineLeft.indexOf(rec), 1);
      return ms;
    };

    /**
     * Another session's test may kill and restart a node's engine under a run; the swarm then
     * fails a task for a moment ("failed to find a load balancer IP to use for network"). Such
     * a run is retried on a quiet lab (at most twice) and counted in the notes.
     */
    const retried: string[] = [];
    const attempt = async <T>(what: string, fn: (n: number) => Promise<T>, n: number): Promise<T> => {
      for (let k = 0; ; k++) {
        try {
          return await fn(k ? n + 100 * k : n);
        } catch (err) {
          if (k >= 2) throw err;
          retried.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
          process.stderr.write(`  ${what} failed, retrying: ${(err as Error).message}\n`);
          for (const rec of baselineLeft.splice(0)) await removeServicesAndNetwork(m, rec.services, rec.network).catch(() => undefined);
          await sleep(5000);
        }
      }
    };

    // Warm-up: the agent image built and pushed and its global service up, the job image pulled
    // on every node, the image-check verdict cached; then the baseline's first services.
    const warm = await attempt('warm-up console run', consoleRun, 0);
    process.stderr.write(`  warm-up console run: ${Math.round(warm.ms)} ms, ranks on ${warm.byRank.join(', ')}; events ${warm.events}\n`);
    // The baseline runs the very bytes the console ran: the digest its image check resolved.
    const digest = warm.digest ?? image;
    const resources = warm.spec ?? {
      Limits: { NanoCPUs: 0.25e9, MemoryBytes: 0.25 * 1024 ** 3 },
      Reservations: { NanoCPUs: 0.25e9, MemoryBytes: 0.25 * 1024 ** 3 },
    };
    const limits = (resources as { Limits?: { NanoCPUs?: number; MemoryBytes?: number } }).Limits ?? {};
    await attempt('warm-up baseline run', (n) => baselineRun(n, warm.byRank, digest, resources), 0);

    const reps = env.reps(5, 1);
    const ours: number[] = [];
    const oursEngine: number[] = [];
    const oursTasks: number[] = [];
    const base: number[] = [];
    const baseEngine: number[] = [];
    const baseTasks: number[] = [];
    const ats: Record<string, number>[] = [];
    for (let i = 1; i <= reps; i++) {
      const b = await attempt(`baseline run ${i}`, (n) => baselineRun(n, warm.byRank, digest, resources), i);
      base.push(b.ms);
      baseEngine.push(b.engineMs);
      baseTasks.push(b.tasksMs);
      const c = await attempt(`console run ${i}`, consoleRun, i);
      ours.push(c.ms);
      oursEngine.push(c.engineMs);
      oursTasks.push(c.tasksMs);
      ats.push(c.at);
      process.stderr.write(`  rep ${i}: baseline ${Math.round(b.ms)} ms, console ${Math.round(c.ms)} ms; events ${c.events}\n`);
    }
    const cli = await cliRun(warm.byRank, digest, (limits.NanoCPUs ?? 0.25e9) / 1e9, limits.MemoryBytes ?? 0.25 * 1024 ** 3).catch(
      (err: unknown) => {
        process.stderr.write(`  CLI form failed: ${(err as Error).message}\n`);
        return Number.NaN;
      },
    );

    const ratio = median(ours) / median(base);
    return [
      {
        bench: 'swarm',
        title: 'submit → every rank running, 3-node job on a 3-engine swarm',
        console: {
          runs: ours,
          unit: 'ms',
          what:
            'ENGINE=swarm over the manager of scripts/swarm-lab (three Docker engines, each in its own network namespace, VXLAN between them, ' +
            `a registry on the bridge); POST /training-jobs of a 3-node job (flavor ${FLAVOR}: 0.25 vCPU, 0.25 GiB; one tiny code file, one tiny data file; ` +
            `boot command \`${BOOT}\`) → the job API (polled every ${POLL_MS} ms) shows it Running with all three nodes running; then stopped and ended before the next run`,
        },
        baseline: {
          name: 'the same job by hand through the manager’s API: `docker network create -d overlay --internal` + three `docker service create` (1 replica, restart none, dnsrr, that network, `node.id==` the host the console used for that rank, the console’s limits and reservations, `--init`) of the same image digest',
          runs: base,
          unit: 'ms',
          what: `the first create call → every service has a running task (tasks polled every ${POLL_MS} ms); then removed`,
        },
        ratio,
        goal: '≤ 1.5× the baseline’s time',
        met: ratio <= 1.5,
        notes: [
          `Median offsets from the POST (the job's events and the manager's stamps; the steps overlap): ${offsets(ats)}.`,
          `Engine stamps: first service created → last task running, median ${Math.round(median(oursTasks))} ms for the console's services and ${Math.round(median(baseTasks))} ms for the baseline's; submit (or first create) → last task's running stamp, median ${Math.round(median(oursEngine))} ms against ${Math.round(median(baseEngine))} ms (${(median(oursEngine) / median(baseEngine)).toFixed(2)}×).`,
          `The baseline typed as CLI commands (\`docker -H <manager> network create\` then three \`docker service create --detach\` at once, polled the same way), once: ${Number.isFinite(cli) ? `${Math.round(cli)} ms` : 'failed'}.`,
          ...(retried.length ? [`Retried on a disturbed lab (another session restarting a node's engine): ${retried.join('; ')}.`] : []),
          `Warm-up before the runs: one console run (the node agent image built and pushed, its global service up, the job image pulled on every node: ${Math.round(warm.ms)} ms) and one baseline run.`,
        ],
        command: 'npm run bench -- swarm',
      },
    ];
  } finally {
    for (const rec of baselineLeft) await removeServicesAndNetwork(m, rec.services, rec.network).catch(() => undefined);
    if (s) await s.stop();
    if (consoleId) {
      for (const x of await m.listServices({ filters: { label: [`tc.console=${consoleId}`] } }))
        await m
          .getService(x.ID)
          .remove()
          .catch(() => undefined);
      await removeSwarmAgent(m, consoleId).catch(() => undefined);
      for (const x of await m.listNetworks({ filters: { label: [`tc.console=${consoleId}`] } }))
        await removeServicesAndNetwork(m, [], x.Id).catch(() => undefined);
    }
    for (const x of await m.listServices({ filters: { label: [`tc.bench.run=${BENCH_RUN}`] } }))
      await m
        .getService(x.ID)
        .remove()
        .catch(() => undefined);
    for (const x of await m.listNetworks({ filters: { label: [`tc.bench.run=${BENCH_RUN}`] } }))
      await removeServicesAndNetwork(m, [], x.Id).catch(() => undefined);
    // The job image on every node (pulled by digest) and on the manager (built there).
    for (let i = 1; i <= LAB_NODES; i++) {
      const d = createDockerClient(nodeSocket(i));
      const imgs = await d.listImages({ filters: { label: [`tc.bench.run=${BENCH_RUN}`] } }).catch(() => []);
      for (const img of imgs)
        await d
          .getImage(img.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
