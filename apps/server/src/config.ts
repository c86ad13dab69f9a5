import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { Flavor, Password } from '@tc/contracts';
import { parseAllowHosts } from './notifications/address-policy.js';

/**
 * One validated configuration object. Sources: the environment, plus an optional JSON file
 * (CONFIG_FILE) for what does not fit in variables, such as flavors. A bad value stops the
 * boot with a message naming the variable, rather than failing later mid-job.
 */
const port = z.coerce.number().int().min(1).max(65535);

const PoolId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'a pool id is 1-32 lowercase letters, digits or -, starting with a letter' });

const PoolFileEntry = z
  .object({
    id: PoolId,
    name: z.string().min(1).max(128),
    /**
     * A dedicated pool's share of the engine. The public pool has none: its capacity is what the
     * engine reports.
     */
    capacity: z
      .object({ vcpus: z.number().positive(), memoryGiB: z.number().positive(), gpus: z.int().min(0).default(0) })
      .strict()
      .optional(),
    flavors: z.array(Flavor).min(1),
    /** Whether standalone jobs get a network (and distributed ones reach beyond their own). */
    network: z.boolean().default(false),
  })
  .strict();

const FileConfig = z
  .object({
    /** Shorthand for the public pool's flavors. */
    flavors: z.array(Flavor).min(1).optional(),
    pools: z.array(PoolFileEntry).min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.flavors && c.pools) ctx.addIssue({ code: 'custom', path: ['flavors'], message: 'give either flavors or pools, not both' });
    const ids = new Set<string>();
    c.pools?.forEach((p, i) => {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', path: ['pools', i, 'id'], message: `pool id ${p.id} appears twice` });
      ids.add(p.id);
      if (p.id === PUBLIC_POOL && p.capacity) {
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, 'capacity'],
          message: 'the public pool has the engine’s capacity; leave capacity out',
        });
      }
      if (p.id !== PUBLIC_POOL && !p.capacity) {
        ctx.addIssue({
          code: 'custom',
          path: ['pools', i, 'capacity'],
          message: 'a dedicated pool needs its capacity (vcpus, memoryGiB, gpus)',
        });
      }
      const flavorIds = new Set<string>();
      p.flavors.forEach((f, j) => {
        if (flavorIds.has(f.id))
          ctx.addIssue({ code: 'custom', path: ['pools', i, 'flavors', j, 'id'], message: `flavor id ${f.id} appears twice` });
        flavorIds.add(f.id);
      });
    });
  });

export const PUBLIC_POOL = 'public';

export interface PoolConfig {
  id: string;
  name: string;
  /** null: the engine's whole capacity (the public pool). */
  capacity: { vcpus: number; memoryGiB: number; gpus: number } | null;
  flavors: Flavor[];
  network: boolean;
}

const EnvConfig = z.object({
  PORT: port.default(8080),
  // Loopback by default: exposing the console to a network is a choice (use TLS, see docs/SECURITY.md).
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  EMBEDDED_S3_PORT: port.default(9000),
  // Loopback unless set: an address the engine's nodes reach (a cluster's), never by default.
  EMBEDDED_S3_HOST: z.union([z.ipv4(), z.ipv6()], { error: 'EMBEDDED_S3_HOST must be an IP address of this machine' }).default('127.0.0.1'),
  DOCKER_HOST: z.string().optional(),
  // docker: one engine (local or DOCKER_HOST); swarm: DOCKER_HOST is a swarm manager and jobs
  // are placed on its nodes (docs/SCALE-OUT.md).
  ENGINE: z.enum(['docker', 'swarm'], { error: 'ENGINE must be docker or swarm' }).default('docker'),
  // The registry every swarm node pulls from, host[:port] (e.g. registry.lab:5000).
  REGISTRY: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i, { error: 'REGISTRY must be host[:port] of a registry, e.g. registry.lab:5000' })
    .optional(),
  // The port the node agent serves on each swarm node (reachable from the console only).
  AGENT_PORT: port.default(7731),
  PUBLIC_URL: z.url().optional(),
  CONFIG_FILE: z.string().optional(),
  STOP_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  // The wait before a job's first automatic retry; it doubles with each attempt (at most 10 minutes).
  RETRY_BACKOFF_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  // How often a running job's /home/work/checkpoints/ is uploaded to its Checkpoint Path (changed files only).
  CHECKPOINT_UPLOAD_SECONDS: z.coerce.number().int().min(1).max(86400).default(300),
  USAGE_SAMPLE_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  // A job terminal without input for this long is closed (http/terminal.ts).
  TERMINAL_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Per node: what the console stores of a job's log (first half, latest half); the engine keeps
  // about twice as much. 64 KiB to 1 TiB; default 64 MiB.
  LOG_MAX_BYTES_PER_NODE: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 ** 4)
    .default(64 * 1024 * 1024),
  // The folder on the engine's host under which jobs' work folders are made (staged code and
  // data, outputs). Absolute; default: <DATA_DIR>/node, right for an engine on this machine.
  NODE_ROOT: z
    .string()
    .regex(/^\/[^\0]*$/, { error: 'NODE_ROOT must be an absolute path on the engine host' })
    .optional(),
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(10_000),
  NOTIFY_RETRY_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(3_600_000),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  NOTIFY_POLL_MS: z.coerce.number().int().min(10).max(600_000).default(5_000),
  // Internal addresses webhooks may reach anyway: host names, IP addresses, CIDR ranges, comma-separated.
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseAllowHosts(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `host names, IP addresses or CIDR ranges, comma-separated: ${(err as Error).message}` });
        return z.NEVER;
      }
    }),
  // Unset (or empty): no budget. A number: core-hours the account may consume in all.
  BUDGET_CORE_HOURS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().min(0).optional()),
  GPU_HOUR_WEIGHT: z.coerce.number().min(0).max(10_000).default(10),
  // Used once, when the database has no users yet: the first admin, "admin", gets it.
  ADMIN_PASSWORD: z.preprocess((v) => (v === '' ? undefined : v), Password.optional()),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .default(12 * 60),
  SIGN_IN_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(10),
  TRUST_PROXY: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().optional())
    .transform((v, ctx) => {
      const parsed = parseTrustProxy(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed.value;
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Fastify's `trustProxy`: whose X-Forwarded-For decides the client address (sign-in limit, audit log). */
export type TrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

/**
 * TRUST_PROXY: unset or `false`, nobody (X-Forwarded-For is ignored); `true`, every hop (only when
 * nothing but the proxy can reach the port); a number, that many hops; otherwise the proxies'
 * addresses or CIDR ranges, comma-separated. A message when the value is none of these.
 */
function parseTrustProxy(v: string | undefined): { value: TrustProxy } | string {
  if (v === undefined || v === 'false') return { value: false };
  if (v === 'true') return { value: true };
  if (/^\d{1,2}$/.test(v)) {
    const hops = Number(v);
    return { value: (_address, hop) => hop < hops };
  }
  const entries = v.split(',').map((e) => e.trim());
  const bad = entries.find((e) => {
    const [addr, bits, ...more] = e.split('/');
    const family = isIP(addr ?? '');
    if (!family || more.length) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (bad !== undefined) {
    return `TRUST_PROXY must be true, false, a number of hops, or proxy addresses/CIDR ranges separated by commas (${JSON.stringify(bad)} is none)`;
  }
  return { value: entries };
}

export const DEFAULT_FLAVORS: Flavor[] = [
  { id: 'cpu.1u2g', type: 'CPU', vcpus: 1, memoryGiB: 2, gpus: 0, label: '1 vCPU | 2 GiB' },
  { id: 'cpu.2u4g', type: 'CPU', vcpus: 2, memoryGiB: 4, gpus: 0, label: '2 vCPUs | 4 GiB' },
  { id: 'cpu.2u8g', type: 'CPU', vcpus: 2, memoryGiB: 8, gpus: 0, label: '2 vCPUs | 8 GiB' },
];

const PUBLIC_POOL_NAME = 'Public resource pool (this host)';

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** null: start the embedded S3-compatible server on 127.0.0.1:embeddedS3Port. */
  s3: S3Settings | null;
  s3Region: string;
  embeddedS3Port: number;
  embeddedS3Host: string;
  dockerHost: string | undefined;
  /** Which engine backend runs the jobs; `swarm` places them on a swarm's nodes. */
  engine: { kind: 'docker' } | { kind: 'swarm'; registry: string; agentPort: number };
  publicUrl: string;
  pools: PoolConfig[];
  stopGraceSeconds: number;
  /** The wait before a job's first automatic retry (engine/retry-policy.ts). */
  retryBackoffSeconds: number;
  /** How often checkpoints are uploaded while a job runs. */
  checkpointUploadSeconds: number;
  /** How often the running nodes' resource usage is read from the engine (usage/usage-sampler.ts). */
  usageSampleSeconds: number;
  /** A job terminal without input for this long is closed. */
  terminalIdleMinutes: number;
  /** What one node's stored log may take (LogSink); the engine's log files are sized from it. */
  logMaxBytesPerNode: number;
  /** The engine host's folder for this console's work folders (see NODE_ROOT). */
  nodeRoot: string;
  /** Webhook retries: delay base × 2^(attempt-1), capped; see notifications/delivery-worker.ts. */
  notify: { baseMs: number; maxDelayMs: number; maxAttempts: number; timeoutMs: number; pollMs: number };
  /** Normalised WEBHOOK_ALLOW_HOSTS entries; every other internal address is refused (notifications/address-policy.ts). */
  webhookAllowHosts: string[];
  logLevel: z.infer<typeof EnvConfig>['LOG_LEVEL'];
  /** limitCoreHours null: unlimited. One GPU-hour counts as gpuHourWeight core-hours. */
  budget: { limitCoreHours: number | null; gpuHourWeight: number };
  auth: { adminPassword: string | undefined; cookieSecure: boolean | 'auto'; sessionIdleMs: number; signInPerMinute: number };
  trustProxy: TrustProxy;
}

export class ConfigError extends Error {}

function isLoopbackUrl(u: string): boolean {
  const host = new URL(u).hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * ENGINE=swarm needs a registry the nodes pull from and a store they reach: a store on this
 * machine's loopback is out of every other node's reach, so it is refused here rather than
 * failing each job's staging.
 */
function swarmSettings(e: z.infer<typeof EnvConfig>, s3: S3Settings | null): Config['engine'] {
  if (e.ENGINE === 'docker') return { kind: 'docker' };
  const bad: string[] = [];
  if (!e.REGISTRY) bad.push('REGISTRY: ENGINE=swarm needs the registry every node pulls job images from (host[:port])');
  if (s3 && isLoopbackUrl(s3.endpoint)) {
    bad.push(`S3_ENDPOINT: ${s3.endpoint} is on loopback, which the swarm's nodes cannot reach; use an address they reach`);
  }
  if (!s3 && /^127\.|^::1$/.test(e.EMBEDDED_S3_HOST)) {
    bad.push(
      `EMBEDDED_S3_HOST: the embedded store listens on ${e.EMBEDDED_S3_HOST}, which the swarm's nodes cannot reach; set it to an address of this machine they reach, or set S3_ENDPOINT`,
    );
  }
  if (bad.length) throw new ConfigError(`invalid configuration:\n${bad.map((b) => `  ${b}`).join('\n')}`);
  return { kind: 'swarm', registry: e.REGISTRY!, agentPort: e.AGENT_PORT };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvConfig.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  let s3: S3Settings | null = null;
  if (e.S3_ENDPOINT) {
    if (!e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY) {
      throw new ConfigError('invalid configuration:\n  S3_ENDPOINT is set, so S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required');
    }
    s3 = { endpoint: e.S3_ENDPOINT, region: e.S3_REGION, accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY };
  }
  const engine = swarmSettings(e, s3);
  let pools: PoolConfig[] = [{ id: PUBLIC_POOL, name: PUBLIC_POOL_NAME, capacity: null, flavors: DEFAULT_FLAVORS, network: false }];
  if (e.CONFIG_FILE) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(e.CONFIG_FILE, 'utf8'));
    } catch (err) {
      throw new ConfigError(`CONFIG_FILE ${e.CONFIG_FILE}: ${(err as Error).message}`);
    }
    const file = FileConfig.safeParse(raw);
    if (!file.success) {
      const lines = file.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
      throw new ConfigError(`invalid CONFIG_FILE ${e.CONFIG_FILE}:\n${lines.join('\n')}`);
    }
    if (file.data.flavors) pools = [{ ...pools[0]!, flavors: file.data.flavors }];
    if (file.data.pools) pools = file.data.pools.map((p) => ({ ...p, capacity: p.capacity ?? null }));
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    s3,
    s3Region: e.S3_REGION,
    embeddedS3Port: e.EMBEDDED_S3_PORT,
    embeddedS3Host: e.EMBEDDED_S3_HOST,
    dockerHost: e.DOCKER_HOST,
    engine,
    publicUrl: e.PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    pools,
    stopGraceSeconds: e.STOP_GRACE_SECONDS,
    retryBackoffSeconds: e.RETRY_BACKOFF_SECONDS,
    checkpointUploadSeconds: e.CHECKPOINT_UPLOAD_SECONDS,
    usageSampleSeconds: e.USAGE_SAMPLE_SECONDS,
    terminalIdleMinutes: e.TERMINAL_IDLE_MINUTES,
    logMaxBytesPerNode: e.LOG_MAX_BYTES_PER_NODE,
    nodeRoot: e.NODE_ROOT ?? path.join(path.resolve(e.DATA_DIR), 'node'),
    notify: {
      baseMs: e.NOTIFY_RETRY_BASE_MS,
      maxDelayMs: e.NOTIFY_RETRY_MAX_MS,
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      timeoutMs: e.NOTIFY_TIMEOUT_MS,
      pollMs: e.NOTIFY_POLL_MS,
    },
    webhookAllowHosts: e.WEBHOOK_ALLOW_HOSTS,
    logLevel: e.LOG_LEVEL,
    budget: { limitCoreHours: e.BUDGET_CORE_HOURS ?? null, gpuHourWeight: e.GPU_HOUR_WEIGHT },
    auth: {
      adminPassword: e.ADMIN_PASSWORD,
      cookieSecure: e.COOKIE_SECURE === 'auto' ? 'auto' : e.COOKIE_SECURE === 'true',
      sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
      signInPerMinute: e.SIGN_IN_PER_MINUTE,
    },
    trustProxy: e.TRUST_PROXY,
  };
}
