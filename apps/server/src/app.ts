import Fastify, { type FastifyInstance } from 'fastify';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './config.js';
import { keptValue } from './kept-value.js';
import type { Db } from './db/database.js';
import { JobRepository } from './jobs/job-repository.js';
import { LogRepository } from './engine/log-repository.js';
import { ImageCheckRepository } from './engine/image-check-repository.js';
import { ImageTagRepository } from './images/image-tag-repository.js';
import type { ContainerEngine } from './engine/container-engine.js';
import type { ObjectStore } from './storage/object-store.js';
import type { NodeAgent } from './engine/node-agent.js';
import { ResourcePools } from './engine/resource-pools.js';
import { JobRunner } from './engine/job-runner.js';
import { Scheduler } from './engine/scheduler.js';
import { DatasetRepository } from './datasets/dataset-repository.js';
import { DatasetService } from './datasets/dataset-service.js';
import { datasetRoutes } from './http/datasets.js';
import { JobService } from './jobs/job-service.js';
import { LogStreams } from './jobs/log-streams.js';
import { registerErrorHandler } from './http/error-handler.js';
import { trainingJobRoutes } from './http/training-jobs.js';
import { trainingJobOutputRoutes } from './http/training-job-outputs.js';
import { resourcePoolRoutes } from './http/resource-pools.js';
import { healthRoutes } from './http/health.js';
import { ParameterSetRepository } from './job-parameters/parameter-set-repository.js';
import { NotificationRepository } from './notifications/notification-repository.js';
import { ParameterSetService, SaveParametersOnCreate } from './job-parameters/parameter-set-service.js';
import { NotificationService } from './notifications/notification-service.js';
import { DeliveryWorker } from './notifications/delivery-worker.js';
import { HttpWebhookSender } from './notifications/webhook-sender.js';
import { WebhookAddressPolicy } from './notifications/address-policy.js';
import { trainingJobConfigRoutes } from './http/training-job-configs.js';
import { notificationTopicRoutes } from './http/notification-topics.js';
import { registerSpa } from './http/spa.js';
import { storageBrowseRoutes } from './http/storage-browse.js';
import { ImageService } from './images/image-service.js';
import { imageRoutes } from './http/images.js';
import { BudgetRepository } from './budget/budget-repository.js';
import { BudgetService } from './budget/budget-service.js';
import { budgetRoutes } from './http/budget.js';
import { AccountRepository } from './accounts/account-repository.js';
import { AuditRepository } from './accounts/audit-repository.js';
import { AccountService } from './accounts/account-service.js';
import { accountRoutes } from './http/accounts.js';
import { registerAuth } from './http/authenticate.js';
import { MetricRepository } from './metrics/metric-repository.js';
import { MetricService } from './metrics/metric-service.js';
import { trainingJobMetricRoutes } from './http/training-job-metrics.js';
import { trainingJobComparisonRoutes } from './http/training-job-comparison.js';
import { VersionComparisonService } from './jobs/version-comparison.js';
import { UsageRepository } from './usage/usage-repository.js';
import { UsageSampler } from './usage/usage-sampler.js';
import { USAGE_NOT_ON_SWARM, UsageService } from './usage/usage-service.js';
import { usageRoutes } from './http/usage.js';
import { terminalRoutes } from './http/terminal.js';
import { TerminalSessions } from './terminal/terminal-sessions.js';

export interface AppDeps {
  db: Db;
  store: ObjectStore;
  engine: ContainerEngine;
  /** The node agent of this console on the engine (it needs the console's id, known here). */
  nodeAgent: (consoleId: string) => NodeAgent;
  /** Extra labels on job containers (tests use them to clean up). */
  containerLabels?: Record<string, string>;
  webDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The job runner, so tests can wait for background work. */
    runner: JobRunner;
    /** Carries on the jobs a previous process left (main calls it once before listening). */
    recover: () => Promise<void>;
    /** Job metrics, so tests can wait for their background reads. */
    metrics: MetricService;
    /** Accounts, for main's demo setup and tests' sign-in. */
    accounts: AccountService;
  }
}

/** Shells one user may have open into job nodes at once. */
const TERMINALS_PER_USER = 5;

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Builds the HTTP application over the given adapters; main.ts and tests both call this. */
export async function buildApp(config: Config, deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
    // Whose X-Forwarded-For sets req.ip (sign-in limit, audit log); nobody's unless TRUST_PROXY says.
    trustProxy: config.trustProxy,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  registerJsonParser(app);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  // Security headers on every answer. The console is often reached over plain HTTP on a LAN, so
  // requests are not upgraded to HTTPS; the SPA loads only its own scripts.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } },
  });

  const jobs = new JobRepository(deps.db);
  const logs = new LogRepository(deps.db);
  const verdicts = new ImageCheckRepository(deps.db);
  // On many hosts a pool is its labelled nodes, and jobs are placed rank by rank on them.
  const pools = new ResourcePools(
    config.pools,
    () => deps.engine.capacity(),
    deps.engine.multiHost ? { readNodes: () => deps.engine.nodes() } : {},
  );
  await pools.refresh();
  const datasets = new DatasetService(new DatasetRepository(deps.db), deps.store, config.s3Region);
  const id = consoleId(config.dataDir);
  const runner = new JobRunner({
    onStalled: (job) => notifications.onStalled(job),
    dataSnapshot: (id, version) => datasets.snapshot(id, version),
    jobs,
    logs,
    verdicts,
    engine: deps.engine,
    agent: deps.nodeAgent(id),
    store: deps.store,
    pools,
    stopGraceSeconds: config.stopGraceSeconds,
    retryBackoffSeconds: config.retryBackoffSeconds,
    checkpointUploadSeconds: config.checkpointUploadSeconds,
    logMaxBytesPerNode: config.logMaxBytesPerNode,
    consoleId: id,
    extraLabels: deps.containerLabels,
    log: app.log,
  });
  const scheduler = new Scheduler(jobs, pools, (id) => runner.start(id));
  // Multi-host: the nodes are read every few seconds, so a job waiting for room starts when a
  // node joins or frees up (nothing on a single engine).
  app.addHook('onReady', async () => scheduler.start());
  app.addHook('preClose', async () => scheduler.stop());
  const topics = new NotificationRepository(deps.db);
  const addresses = new WebhookAddressPolicy(config.webhookAllowHosts);
  const deliveries = new DeliveryWorker({
    outbox: topics,
    jobs,
    sender: new HttpWebhookSender(addresses),
    retry: config.notify,
    log: app.log,
  });
  const notifications = new NotificationService({
    topics,
    jobs,
    addresses,
    publicUrl: config.publicUrl,
    queued: () => deliveries.wake(),
    log: app.log,
  });
  // Before recovery runs, so the jobs it ends notify too (the outbox keeps them until the worker starts).
  jobs.onTransition((t) => notifications.onTransition(t));
  const budget = new BudgetService({
    usage: new BudgetRepository(deps.db),
    flavor: (pool, flavor) => pools.flavor(pool, flavor),
    place: (resources) => pools.place(resources),
    ...config.budget,
    log: app.log,
  });
  // Before any log line is stored (recovery stores some), so every line is read for metrics.
  const metrics = new MetricService({ metrics: new MetricRepository(deps.db), jobs, logs, store: deps.store, log: app.log });
  app.decorate('metrics', metrics);
  // A job that ended just before shutdown still gets its metrics file read, within reason: a
  // stalled store must not hold the shutdown up (the log's own metrics are stored already).
  app.addHook('onClose', async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([metrics.idle(), new Promise((r) => (timer = setTimeout(r, 15_000)))]).finally(() => clearTimeout(timer));
  });
  // Likewise before recovery, so the runs it ends are metered.
  jobs.onTransition((t) => budget.onTransition(t));
  budget.reconcile();
  app.addHook('onReady', async () => deliveries.start());
  app.addHook('onClose', async () => deliveries.stop());
  const usage = new UsageRepository(deps.db);
  const sampler = new UsageSampler({
    jobs,
    engine: deps.engine,
    usage,
    intervalMs: config.usageSampleSeconds * 1000,
    log: app.log,
  });
  app.addHook('onReady', async () => sampler.start());
  app.addHook('preClose', async () => sampler.stop());
  const parameterSetRepo = new ParameterSetRepository(deps.db);
  const saveParameters = new SaveParametersOnCreate({ configs: parameterSetRepo, jobs });
  const logStreams = new LogStreams({ logs, jobs });
  // Open event streams would keep the server from closing; browsers reconnect by their last id.
  app.addHook('preClose', async () => logStreams.closeAll());
  const service = new JobService({
    jobs,
    logs,
    streams: logStreams,
    pools,
    scheduler,
    runner,
    store: deps.store,
    region: config.s3Region,
    createHooks: [budget, { check: (req, actor) => datasets.checkJob(req, actor) }, notifications, saveParameters],
  });
  const parameterSets = new ParameterSetService({ configs: parameterSetRepo, createJob: (actor, req) => service.create(actor, req) });
  const audit = new AuditRepository(deps.db);
  const terminals = new TerminalSessions({
    jobs,
    engine: deps.engine,
    audit,
    idleMs: config.terminalIdleMinutes * 60_000,
    perUser: TERMINALS_PER_USER,
    log: app.log,
  });
  jobs.onTransition((t) => terminals.onTransition(t));
  const accounts = new AccountService({
    accounts: new AccountRepository(deps.db),
    audit,
    sessionIdleMs: config.auth.sessionIdleMs,
    setupCodeFile: path.join(config.dataDir, 'setup-code'),
    log: app.log,
  });
  await accounts.bootstrap(config.auth.adminPassword);
  app.decorate('accounts', accounts);
  app.decorate('runner', runner);
  app.decorate('recover', async () => {
    datasets.recover();
    await runner.recoverAfterRestart();
    scheduler.pump();
  });

  // Before every route: each one but health, sign-in and setup needs a session or a token.
  await registerAuth(app, accounts, audit);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Training console API', version: '1', description: 'Create and watch training jobs that run custom images.' },
    },
    transform: jsonSchemaTransform,
  });
  // The explorer sets its own, stricter CSP with hashes for its inline scripts.
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs', staticCSP: true });

  await app.register(
    async (api) => {
      await api.register(accountRoutes(accounts, config.auth));
      await api.register(trainingJobRoutes(service));
      await api.register(trainingJobOutputRoutes(service, deps.store));
      await api.register(trainingJobMetricRoutes(metrics));
      await api.register(trainingJobComparisonRoutes(new VersionComparisonService({ jobs: service, metrics })));
      await api.register(usageRoutes(new UsageService(jobs, usage, deps.engine.multiHost ? USAGE_NOT_ON_SWARM : null)));
      await api.register(terminalRoutes(terminals, config.publicUrl));
      await api.register(trainingJobConfigRoutes(parameterSets));
      await api.register(notificationTopicRoutes(notifications));
      await api.register(storageBrowseRoutes(deps.store));
      await api.register(datasetRoutes(datasets));
      await api.register(
        imageRoutes(
          new ImageService({
            engine: deps.engine,
            verdicts,
            tags: new ImageTagRepository(deps.db),
            log: app.log,
            jobImages: () => jobs.imageUse(),
            ...(config.engine.kind === 'swarm' ? { registry: config.engine.registry } : {}),
          }),
        ),
      );
      await api.register(budgetRoutes(budget));
      await api.register(resourcePoolRoutes(() => pools.list((id) => ({ used: scheduler.used(id), queued: scheduler.queued(id).length }))));
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    healthRoutes({
      database: () => void deps.db.prepare('SELECT 1').get(),
      objectStore: () => deps.store.ping(),
      engine: () => deps.engine.ping(),
    }),
    { prefix: '/api' },
  );
  await registerSpa(app, deps.webDir ?? DEFAULT_WEB_DIR);
  return app;
}

/**
 * JSON bodies, with two differences from Fastify's parser (whose poisoning checks stay): an empty
 * body is no body, since many clients send `content-type: application/json` on a body-less POST
 * (stop, rotate); and a body that is not UTF-8 is refused whole, where decoding would put U+FFFD
 * in place of the bad bytes and store text the sender never wrote.
 */
function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    if (!isUtf8(bytes)) {
      const err = Object.assign(new Error('the request body is not valid UTF-8'), { statusCode: 400, code: 'invalid_utf8' });
      return done(err, undefined);
    }
    parse(req, bytes.toString('utf8'), done);
  });
}

/**
 * This console's identity on a shared engine, kept beside its database so a restart over the
 * same data folder finds its own containers again, and never another console's.
 */
function consoleId(dataDir: string): string {
  return keptValue(path.join(dataDir, 'console-id'), randomUUID);
}
