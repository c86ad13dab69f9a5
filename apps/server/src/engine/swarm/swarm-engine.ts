import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type {
  ContainerEngine,
  ContainerSpec,
  EngineCapacity,
  EngineNode,
  ExitInfo,
  ImageInfo,
  ImageSummary,
  LogLineEvent,
  ManagedContainer,
  ManagedNetwork,
  PullProgress,
  UsageSample,
} from '../container-engine.js';
import { ContainerGoneError, EngineDeadlineError, HostLostError } from '../container-engine.js';
import { CALL_DEADLINE_MS, DockerEngine, STREAM_IDLE_MS, countGpus, engineLogConfig, sinceParam } from '../docker/docker-engine.js';
import { EngineError, engineMessage, statusOf } from '../docker/errors.js';
import { IdleDeadline } from '../docker/idle-deadline.js';
import { CallerError, callerDemuxer, pushWholeLog, type LogDemuxer } from '../docker/log-demux.js';
import { readProgress } from '../docker/progress.js';
import { LABEL } from '../launch-plan.js';

export interface SwarmEngineOptions {
  /** The registry every node pulls job images from (host:port), e.g. 10.231.0.1:5000. */
  registry: string;
  /** Labels for the engine's own short-lived containers on the manager (see DockerEngine). */
  helperLabels?: Record<string, string>;
  /** How long one manager call may take (default CALL_DEADLINE_MS). */
  callDeadlineMs?: number;
  /** How often a task's and its node's state are read (default 1000 ms). */
  pollMs?: number;
  /** How long start() waits for a task to run: pulling the image counts (default 120 s). */
  readyTimeoutMs?: number;
  /**
   * SIGTERM → SIGKILL grace, fixed into each service when it is created (default 30 s, the
   * console's STOP_GRACE_SECONDS default). A task is stopped with the grace of its own spec:
   * an update of the service changes the next task's, not the running one's (checked on 20.10),
   * so stop() cannot choose it later. Give the runner's stopGraceSeconds here.
   */
  stopGraceSeconds?: number;
}

const GiB = 1024 ** 3;
const GPU_KIND = 'NVIDIA-GPU';
/** On a private internal overlay made for one job without network: the service it isolates. */
const ISOLATES = 'tc.swarm.isolates';
/** On a service stop() ended; survives a console restart. */
const STOPPED = 'tc.swarm.stopped';
/** A constraint no node satisfies: the task stop() replaces its task with never runs. */
const NOWHERE = 'node.id==tc-stopped-nowhere';

/** How often start() looks while a task comes up (at most). */
const START_POLL_MS = 200;

/** Task states after which nothing runs any more. */
const TERMINAL = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);
/** Task states before the container is started. */
const BEFORE_RUN = new Set(['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting']);
/** Node states in which it no longer answers the manager. */
const NODE_LOST = new Set(['down', 'unknown', 'disconnected']);

interface TaskStatus {
  State?: string;
  Err?: string;
  Message?: string;
  ContainerStatus?: { ContainerID?: string; ExitCode?: number };
}

interface SwarmTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: TaskStatus;
}

interface SwarmNode {
  ID: string;
  Spec?: { Labels?: Record<string, string>; Availability?: string };
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number; GenericResources?: unknown } };
  Status?: { State?: string; Addr?: string };
}

interface SwarmService {
  ID: string;
  Version?: { Index?: number };
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { Networks?: { Target?: string }[]; Placement?: { Constraints?: string[] } } & Record<string, unknown>;
  } & Record<string, unknown>;
}

interface NetworkWithOptions {
  inspect(opts: { abortSignal: AbortSignal }): Promise<{ Labels?: Record<string, string> } | null>;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function asReadable(s: NodeJS.ReadableStream): Readable {
  return s instanceof Readable ? s : new Readable().wrap(s);
}

/**
 * The task a service was made for: the oldest. A service has a second one only after stop(),
 * which moves it to a constraint no node satisfies (that one stays pending).
 */
function jobTask(tasks: SwarmTask[]): SwarmTask | undefined {
  let first: SwarmTask | undefined;
  for (const t of tasks) if (!first || Date.parse(t.CreatedAt ?? '') < Date.parse(first.CreatedAt ?? '')) first = t;
  return first;
}

function stateOf(t: SwarmTask): string {
  return t.Status?.State ?? 'new';
}

/**
 * The exit code of an ended task whose container ran; undefined when it never ran (rejected,
 * failed to start, shut down before starting). The engine leaves ExitCode out when it is 0.
 */
function exitCodeOf(t: SwarmTask): number | undefined {
  const cs = t.Status?.ContainerStatus;
  const code = typeof cs?.ExitCode === 'number' && cs.ExitCode >= 0 ? cs.ExitCode : undefined;
  switch (stateOf(t)) {
    case 'complete':
      return code ?? 0;
    case 'failed': {
      if (code) return code;
      const m = /non-zero exit \((\d+)\)/.exec(t.Status?.Err ?? '');
      // Failed without a non-zero exit: its container could not be started.
      return m ? Number(m[1]) : undefined;
    }
    case 'shutdown':
      return code ?? (cs?.ContainerID ? 0 : undefined);
    default:
      return undefined;
  }
}

type Phase = { kind: 'before' } | { kind: 'running' } | { kind: 'ended'; task: SwarmTask } | { kind: 'lost'; node: SwarmNode };

/**
 * ContainerEngine on a Docker Swarm, through its manager only. A "container" of the port is a
 * service running one task, pinned to the node the console placed it on.
 *
 * Why replicated mode with one replica and no restart, not a replicated-job: on engine 20.10
 * (API 1.41) removing a replicated-job service leaves its running task orphaned (moby#44312,
 * fixed in 24.0; reproduced on the lab: the container ran on after `service rm`), and a job
 * cannot be scaled, so it could not be stopped at all. A replicated service with restart
 * condition none runs its task once and keeps it (complete / failed) as a job would.
 */
export class SwarmEngine implements ContainerEngine {
  readonly multiHost = true;
  readonly docker: Dockerode;
  /** Image operations on the manager's own engine (builds, pushes, probes). */
  readonly images: DockerEngine;
  readonly registry: string;
  private readonly callDeadlineMs: number;
  private readonly pollMs: number;
  private readonly readyTimeoutMs: number;
  private readonly stopGraceSeconds: number;
  /** Exit info of services this engine stopped, for a wait() that finds them gone. */
  private readonly stopped = new Map<string, ExitInfo>();

  constructor(docker: Dockerode, opts: SwarmEngineOptions) {
    this.docker = docker;
    this.registry = opts.registry;
    this.callDeadlineMs = opts.callDeadlineMs ?? CALL_DEADLINE_MS;
    this.pollMs = opts.pollMs ?? 1000;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
    this.stopGraceSeconds = opts.stopGraceSeconds ?? 30;
    this.images = new DockerEngine({
      docker,
      callDeadlineMs: this.callDeadlineMs,
      ...(opts.helperLabels ? { helperLabels: opts.helperLabels } : {}),
    });
  }

  /** One manager request with a deadline (see DockerEngine.call). */
  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, ms = this.callDeadlineMs): Promise<T> {
    const ctl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctl.abort();
        reject(new EngineDeadlineError(`${what}: the swarm manager did not answer within ${duration(ms)}`));
      }, ms);
    });
    try {
      return await Promise.race([fn(ctl.signal), late]);
    } catch (err) {
      if (ctl.signal.aborted && !(err instanceof EngineDeadlineError)) {
        throw new EngineDeadlineError(`${what}: the swarm manager did not answer within ${duration(ms)}`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** call() with the engine's failures turned into EngineError (after `what`). */
  private async ask<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, ms?: number): Promise<T> {
    try {
      return await this.call(what, fn, ms);
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, `${what} failed`);
    }
  }

  // ---- images: done on the manager's engine ----

  ping(): Promise<void> {
    return this.images.ping();
  }
  inspectImage(ref: string): Promise<ImageInfo | null> {
    return this.images.inspectImage(ref);
  }
  pullImage(ref: string, onProgress?: (p: PullProgress) => void): Promise<void> {
    return this.images.pullImage(ref, onProgress);
  }
  listImages(): Promise<ImageSummary[]> {
    return this.images.listImages();
  }
  loadImage(tar: Readable): Promise<string[]> {
    return this.images.loadImage(tar);
  }
  readImageFile(ref: string, path: string, maxBytes: number): Promise<string | null> {
    return this.images.readImageFile(ref, path, maxBytes);
  }

  /**
   * Pushes `ref` (tagged `registry/…`) from the manager's engine to its registry, so every node
   * can pull it. Anonymous: the lab's registry (plain HTTP, trusted by every node) asks for no
   * login. A push that stops moving for STREAM_IDLE_MS fails.
   */
  async pushImage(ref: string): Promise<void> {
    const cut = new AbortController();
    const idle = new IdleDeadline(STREAM_IDLE_MS, () => cut.abort());
    try {
      // An empty auth object still sends X-Registry-Auth, which the engine requires for a push.
      const stream = await this.docker.getImage(ref).push({ authconfig: {}, abortSignal: cut.signal } as Dockerode.ImagePushOptions);
      await readProgress(idle.watch(asReadable(stream)));
    } catch (err) {
      if (idle.expired) throw new EngineDeadlineError(`pushing ${ref} stalled: nothing moved for ${duration(STREAM_IDLE_MS)}`);
      throw EngineError.from(err, `pushing ${ref} failed`);
    } finally {
      idle.clear();
    }
  }

  // ---- nodes ----

  async nodes(): Promise<EngineNode[]> {
    const list = (await this.ask('listing the swarm nodes', (abortSignal) => this.docker.listNodes({ abortSignal }))) as SwarmNode[];
    return list.map((n) => {
      const r = n.Description?.Resources ?? {};
      return {
        id: n.ID,
        hostname: n.Description?.Hostname ?? n.ID,
        addr: n.Status?.Addr ?? '',
        labels: n.Spec?.Labels ?? {},
        ready: n.Status?.State === 'ready' && n.Spec?.Availability === 'active',
        vcpus: (r.NanoCPUs ?? 0) / 1e9,
        memoryGiB: (r.MemoryBytes ?? 0) / GiB,
        gpus: countGpus(r.GenericResources),
      };
    });
  }

  async capacity(): Promise<EngineCapacity> {
    const sum: EngineCapacity = { vcpus: 0, memoryGiB: 0, gpus: 0 };
    for (const n of await this.nodes()) {
      if (!n.ready) continue;
      sum.vcpus += n.vcpus;
      sum.memoryGiB += n.memoryGiB;
      sum.gpus += n.gpus;
    }
    return sum;
  }

  // ---- services ----

  /**
   * Creates the service (its task starts at once). Hardening as DockerEngine applies it, as far
   * as an API 1.41 service spec goes: all capabilities dropped, an init process, the image's own
   * user (no User). A service spec of 1.41 cannot express:
   * - `no-new-privileges` (ContainerSpec.Privileges.NoNewPrivileges came with API 1.46): setuid
   *   binaries still cannot use a capability, since none is left in the bounding set;
   * - MemorySwap = Memory (no swap on top of the limit): the node engine's default applies;
   * - `Privileged: false` is the only mode there is, so nothing to say;
   * - GPUs as device requests: a task reserves the node's generic resources (NVIDIA-GPU) and
   *   gets DOCKER_RESOURCE_NVIDIA-GPU, which the node's default runtime (nvidia) has to honour;
   * - a network mode of 'none': a swarm task cannot use the `none` network ("network none not
   *   found"); without any network it lands on the node's default bridge, which routes out.
   *   So a job without network gets a private internal overlay of its own (no gateway, no
   *   route out; checked: 10.231.0.1 is unreachable), removed with the service.
   */
  async createContainer(spec: ContainerSpec): Promise<string> {
    if (!spec.node) throw new Error(`service ${spec.name}: a swarm needs the node to run it on (ContainerSpec.node), and none was given`);
    const gpus = spec.gpus ?? 0;
    let isolation: string | null = null;
    let networks: { Target: string; Aliases?: string[] }[] = [];
    if (spec.networkMode === 'none') {
      const labels: Record<string, string> = { ...spec.labels, [ISOLATES]: spec.name };
      // Without the job's id, recovery never takes it for the job's own network.
      delete labels[LABEL.jobId];
      isolation = await this.createNetwork(`${spec.name}-isolated`, labels, true);
      networks = [{ Target: isolation }];
    } else if (spec.networkMode !== 'bridge' && spec.networkMode !== 'default') {
      networks = [{ Target: spec.networkMode, ...(spec.networkAliases?.length ? { Aliases: spec.networkAliases } : {}) }];
    }
    // 'bridge': no network at all puts the task on its node's default bridge (checked on 20.10).
    const log = spec.logMaxBytes ? engineLogConfig(spec.logMaxBytes) : null;
    const body = {
      Name: spec.name,
      Labels: spec.labels,
      Mode: { Replicated: { Replicas: 1 } },
      TaskTemplate: {
        ContainerSpec: {
          Image: spec.image,
          // Command replaces the image's ENTRYPOINT: the boot command is the whole exec array.
          Command: spec.cmd,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: spec.labels,
          Hostname: spec.hostname,
          ...(spec.workingDir ? { Dir: spec.workingDir } : {}),
          Init: true,
          CapabilityDrop: ['ALL'],
          StopSignal: 'SIGTERM',
          StopGracePeriod: this.stopGraceSeconds * 1e9,
          ...(spec.mounts?.length
            ? {
                Mounts: spec.mounts.map((m) => ({
                  Type: 'bind' as const,
                  Source: m.hostPath,
                  Target: m.containerPath,
                  ReadOnly: m.readOnly ?? false,
                })),
              }
            : {}),
        },
        Resources: {
          Limits: { NanoCPUs: spec.nanoCpus, MemoryBytes: spec.memoryBytes, Pids: spec.pidsLimit },
          Reservations: {
            NanoCPUs: spec.nanoCpus,
            MemoryBytes: spec.memoryBytes,
            ...(gpus > 0 ? { GenericResources: [{ DiscreteResourceSpec: { Kind: GPU_KIND, Value: gpus } }] } : {}),
          },
        },
        RestartPolicy: { Condition: 'none', MaxAttempts: 0 },
        Placement: { Constraints: [`node.id==${spec.node}`] },
        ...(networks.length ? { Networks: networks } : {}),
        ...(log ? { LogDriver: { Name: log.Type, Options: log.Config } } : {}),
      },
      // stop() relies on this order: the old task is shut down before its replacement is placed.
      UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'continue' },
      EndpointSpec: { Mode: 'dnsrr' },
    };
    try {
      const created = await this.call('creating the service', (abortSignal) =>
        // The typings lack Pids, CapabilityDrop's 1.41 shape and Replicated jobs.
        this.docker.createService({ ...body, abortSignal } as unknown as Dockerode.CreateServiceOptions),
      );
      return created.id;
    } catch (err) {
      if (isolation) await this.removeNetwork(isolation).catch(() => undefined);
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err);
    }
  }

  private async inspectService(id: string): Promise<SwarmService | null> {
    try {
      return (await this.call('inspecting the service', (abortSignal) =>
        this.docker.getService(id).inspect({ abortSignal } as object),
      )) as SwarmService;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, 'inspecting the service failed');
    }
  }

  private async tasksOf(serviceIds: string[]): Promise<SwarmTask[]> {
    if (!serviceIds.length) return [];
    return (await this.ask('listing the service tasks', (abortSignal) =>
      this.docker.listTasks({ filters: { service: serviceIds }, abortSignal }),
    )) as SwarmTask[];
  }

  private async node(id: string): Promise<SwarmNode | null> {
    try {
      return (await this.call('inspecting the node', (abortSignal) =>
        this.docker.getNode(id).inspect({ abortSignal } as object),
      )) as SwarmNode;
    } catch (err) {
      if (statusOf(err) === 404) return null;
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, 'inspecting the node failed');
    }
  }

  private hostLost(node: SwarmNode): HostLostError {
    const hostname = node.Description?.Hostname ?? node.ID;
    const addr = node.Status?.Addr ?? '?';
    return new HostLostError(hostname, `host ${hostname} (${addr}) stopped answering: its engine or the machine is down`);
  }

  /** "task rejected on swlab-node2: No such image: …" */
  private async describe(t: SwarmTask | undefined, fallback: string): Promise<string> {
    if (!t) return fallback;
    const host = t.NodeID ? ((await this.node(t.NodeID).catch(() => null))?.Description?.Hostname ?? t.NodeID) : null;
    const why = t.Status?.Err || t.Status?.Message || '';
    return `task ${stateOf(t)}${host ? ` on ${host}` : ''}${why ? `: ${why}` : ''}`;
  }

  /**
   * Where the service's task is: not yet running, running, ended, or on a node that stopped
   * answering. A service that is gone throws ContainerGoneError.
   */
  private async phase(id: string): Promise<Phase> {
    if (!(await this.inspectService(id))) throw new ContainerGoneError(id);
    let tasks: SwarmTask[];
    try {
      tasks = await this.tasksOf([id]);
    } catch (err) {
      // Removed between the two requests: the task filter names a service that is gone.
      if (!(err instanceof EngineDeadlineError) && !(await this.inspectService(id))) throw new ContainerGoneError(id, { cause: err });
      throw err;
    }
    const t = jobTask(tasks);
    if (!t) return { kind: 'before' };
    const state = stateOf(t);
    // A task that finished did so whatever became of its node since.
    if (state === 'complete' || state === 'failed' || state === 'rejected') return { kind: 'ended', task: t };
    if (t.NodeID && !BEFORE_RUN.has(state)) {
      const node = await this.node(t.NodeID);
      if (!node || NODE_LOST.has(node.Status?.State ?? '')) return { kind: 'lost', node: node ?? { ID: t.NodeID } };
    }
    if (TERMINAL.has(state)) return { kind: 'ended', task: t };
    return state === 'running' ? { kind: 'running' } : { kind: 'before' };
  }

  /**
   * Waits until the task runs (or has already ended), up to readyTimeoutMs: its image is pulled
   * on its node meanwhile. Rejects with the task's state, error and node when it cannot run.
   */
  async start(id: string): Promise<void> {
    const until = Date.now() + this.readyTimeoutMs;
    for (;;) {
      const p = await this.phase(id);
      if (p.kind === 'running') return;
      if (p.kind === 'lost') throw this.hostLost(p.node);
      if (p.kind === 'ended') {
        // Ran and ended before we looked: wait() has its exit code. Never ran: say why.
        if (exitCodeOf(p.task) !== undefined && stateOf(p.task) !== 'rejected') return;
        throw new EngineError(`the task could not run: ${await this.describe(p.task, 'no task')}`, undefined);
      }
      if (Date.now() >= until) {
        const t = jobTask(await this.tasksOf([id]));
        throw new EngineError(
          `the task did not start within ${duration(this.readyTimeoutMs)}: ${await this.describe(t, 'the swarm made no task for it')}`,
          undefined,
        );
      }
      // A task comes up within a second or two: looked at more often than a long wait's poll, so
      // the job shows Running soon after its last rank does (the bench's biggest gap).
      await sleep(Math.min(this.pollMs, START_POLL_MS));
    }
  }

  /**
   * Follows the service's log (the manager gathers it from the task's node).
   *
   * Checked on 20.10: a follow opened before the task runs delivers nothing, ever; and a follow
   * does not end when the task does. So the follow starts once the task runs, the task's state
   * is read every pollMs meanwhile, and when it has ended (or `drain` aborts) the follow is cut
   * and one plain read from the last stamp delivered picks up the rest (the demuxer drops what
   * it passed on already). `since` is honoured to the nanosecond and inclusive, as for a
   * container. When the task's node stopped answering, what arrived is all there is (wait()
   * reports the loss).
   */
  async followLogs(id: string, onLine: (line: LogLineEvent) => void, since?: Date, drain?: AbortSignal): Promise<void> {
    const svc = this.docker.getService(id);
    const demux = callerDemuxer(onLine);
    const first = since ? sinceParam(since) : undefined;
    if (since) demux.startAt(since);

    let p = await this.phase(id);
    while (p.kind === 'before' && !drain?.aborted) {
      await sleep(Math.min(this.pollMs, START_POLL_MS));
      p = await this.phase(id);
    }
    let fruitless = 0;
    while (p.kind === 'running' && !drain?.aborted) {
      const from = demux.resume() ?? first;
      const framesBefore = demux.frames;
      const cut = new AbortController();
      const onDrain = (): void => cut.abort();
      drain?.addEventListener('abort', onDrain, { once: true });
      let watching = true;
      let watchError: unknown = null;
      const watcher = (async () => {
        while (watching) {
          await sleep(this.pollMs);
          if (!watching) break;
          try {
            p = await this.phase(id);
          } catch (err) {
            watchError = err;
            cut.abort();
            return;
          }
          if (p.kind !== 'running') {
            cut.abort();
            return;
          }
        }
      })();
      let broken: unknown = null;
      try {
        const stream = asReadable(
          (await svc.logs({
            follow: true,
            stdout: true,
            stderr: true,
            timestamps: true,
            abortSignal: cut.signal,
            ...(from ? { since: from } : {}),
          } as object)) as NodeJS.ReadableStream,
        );
        const close = (): void => {
          stream.destroy();
        };
        cut.signal.addEventListener('abort', close, { once: true });
        try {
          for await (const chunk of stream) demux.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
        } finally {
          cut.signal.removeEventListener('abort', close);
        }
      } catch (err) {
        if (err instanceof CallerError) {
          watching = false;
          throw err.cause;
        }
        if (!cut.signal.aborted) {
          if (statusOf(err) === 404) {
            watching = false;
            throw new ContainerGoneError(id, { cause: err });
          }
          broken = err;
        }
      } finally {
        watching = false;
        drain?.removeEventListener('abort', onDrain);
        cut.abort();
        await watcher;
      }
      if (watchError) throw watchError;
      if (p.kind !== 'running' || drain?.aborted) break;
      // The stream ended or broke while the task runs: follow again from the last stamp.
      fruitless = broken !== null || demux.frames === framesBefore ? fruitless + 1 : 0;
      if (fruitless > 5) {
        const why = broken instanceof Error ? broken.message : 'the manager keeps ending the log stream';
        throw new EngineError(`the log stream broke off: ${why}`, undefined, { cause: broken });
      }
      if (fruitless > 0) await sleep(100 * fruitless);
      p = await this.phase(id);
    }
    // A node that stopped answering cannot be read: the manager would wait for it.
    if (p.kind !== 'lost') await this.readRest(svc, id, demux, demux.resume() ?? first);
    demux.end();
    if (demux.engineErrors.length) {
      throw new EngineError(`the manager could not read the whole log: ${demux.engineErrors.join('; ')}`, undefined);
    }
  }

  private async readRest(svc: Dockerode.Service, id: string, demux: LogDemuxer, from: string | undefined): Promise<void> {
    let rest: unknown;
    try {
      rest = await this.call('reading the rest of the log', (abortSignal) =>
        svc.logs({ follow: false, stdout: true, stderr: true, timestamps: true, abortSignal, ...(from ? { since: from } : {}) } as object),
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (statusOf(err) === 404) throw new ContainerGoneError(id, { cause: err });
      throw EngineError.from(err);
    }
    pushWholeLog(demux, rest);
  }

  /**
   * Reads the task (and its node) every pollMs until it ends. The manager says nothing of an
   * OOM kill in a task's status (20.10), so oomKilled is always false here.
   */
  async wait(id: string): Promise<ExitInfo> {
    for (;;) {
      let p: Phase;
      try {
        p = await this.phase(id);
      } catch (err) {
        if (err instanceof ContainerGoneError) {
          const mine = this.stopped.get(id);
          if (mine) return mine;
        }
        throw err;
      }
      if (p.kind === 'lost') throw this.hostLost(p.node);
      if (p.kind === 'ended') {
        const t = p.task;
        const code = exitCodeOf(t);
        if (stateOf(t) === 'rejected' || (code === undefined && stateOf(t) !== 'shutdown')) {
          throw new EngineError(`the task could not run: ${await this.describe(t, 'no task')}`, undefined);
        }
        // Shut down before its container started: stop() came first.
        return { exitCode: code ?? 143, oomKilled: false };
      }
      await sleep(this.pollMs);
    }
  }

  /**
   * SIGTERM, then SIGKILL after the grace, on the task wherever it runs.
   *
   * The manager has no kill, a service has no stop, and a task is ended by taking it out of the
   * desired state. So the service is moved to a constraint no node satisfies: its task is shut
   * down (SIGTERM, SIGKILL after the grace of its spec, stopGraceSeconds) and kept with its exit
   * code and its log; the replacement stays pending for ever and runs nothing. (Scaling to 0 or
   * removing the service also signal the task, but then its container and log are removed as
   * soon as it ends.) Resolves once the task has ended; `graceSeconds` only bounds the wait.
   */
  async stop(id: string, graceSeconds: number): Promise<void> {
    const svc = await this.inspectService(id);
    if (!svc?.Spec) return;
    const before = jobTask(await this.tasksOf([id]));
    if (before && TERMINAL.has(stateOf(before))) return;
    if (svc.Spec.Labels?.[STOPPED] !== '1') {
      const spec = structuredClone(svc.Spec);
      spec.Labels = { ...spec.Labels, [STOPPED]: '1' };
      const template = spec.TaskTemplate ?? {};
      template.Placement = { ...template.Placement, Constraints: [NOWHERE] };
      spec.TaskTemplate = template;
      try {
        await this.call('stopping the service', (abortSignal) =>
          // _query: the version goes in the URL, the spec in the body only.
          this.docker.getService(id).update({ ...spec, _query: { version: svc.Version?.Index ?? 0 }, abortSignal } as object),
        );
      } catch (err) {
        if (err instanceof EngineDeadlineError) throw err;
        if (statusOf(err) === 404) return;
        throw EngineError.from(err, 'stopping the service failed');
      }
    }
    const grace = Math.max(graceSeconds, this.stopGraceSeconds);
    const until = Date.now() + grace * 1000 + this.callDeadlineMs;
    for (;;) {
      let p: Phase;
      try {
        p = await this.phase(id);
      } catch (err) {
        if (err instanceof ContainerGoneError) return;
        throw err;
      }
      if (p.kind === 'lost') return;
      if (p.kind === 'ended') {
        this.stopped.set(id, { exitCode: exitCodeOf(p.task) ?? 143, oomKilled: false });
        return;
      }
      if (Date.now() >= until)
        throw new EngineDeadlineError(`stopping the service: its task did not end within ${duration(grace * 1000 + this.callDeadlineMs)}`);
      await sleep(this.pollMs);
    }
  }

  /** Removes the service (its tasks' containers go with it) and a private network made for it. */
  async remove(id: string): Promise<void> {
    // A wait() still polling may yet find it gone and needs the exit stop() saw, for a moment.
    if (this.stopped.has(id)) setTimeout(() => this.stopped.delete(id), 60_000).unref();
    const svc = await this.inspectService(id);
    if (!svc) return;
    try {
      await this.call('removing the service', (abortSignal) => this.docker.getService(id).remove({ abortSignal } as object));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (statusOf(err) !== 404) throw EngineError.from(err, 'removing the service failed');
    }
    for (const n of svc.Spec?.TaskTemplate?.Networks ?? []) {
      if (!n.Target) continue;
      const target = n.Target;
      // dockerode passes the options on; its typings only know the callback form.
      const handle = this.docker.getNetwork(target) as unknown as NetworkWithOptions;
      const net = await this.ask('inspecting the network', (abortSignal) =>
        handle.inspect({ abortSignal }).catch((err: unknown) => (statusOf(err) === 404 ? null : Promise.reject(err))),
      );
      if (net?.Labels?.[ISOLATES] === svc.Spec?.Name) await this.removeNetwork(target);
    }
  }

  /** The manager cannot read a task's container stats: they are the node engine's alone. */
  stats(id: string): Promise<UsageSample | null> {
    void id;
    return Promise.resolve(null);
  }

  async listManaged(labelSelector: Record<string, string>): Promise<ManagedContainer[]> {
    const label = Object.entries(labelSelector).map(([k, v]) => `${k}=${v}`);
    // An empty filter would list every service of the swarm, the console's or not.
    if (!label.length) throw new Error('listManaged needs at least one label');
    const services = (await this.ask('listing services', (abortSignal) =>
      this.docker.listServices({ filters: { label }, abortSignal } as object),
    )) as SwarmService[];
    let tasks: SwarmTask[];
    try {
      tasks = await this.tasksOf(services.map((s) => s.ID));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      // One was removed since the listing: ask per service and leave out the ones gone.
      tasks = (
        await Promise.all(
          services.map((s) =>
            this.tasksOf([s.ID]).catch((e: unknown) => (e instanceof EngineError && e.statusCode === 404 ? [] : Promise.reject(e))),
          ),
        )
      ).flat();
    }
    return services.map((s) => {
      const t = jobTask(tasks.filter((x) => x.ServiceID === s.ID));
      const st = t ? stateOf(t) : 'new';
      const state = st === 'running' ? 'running' : TERMINAL.has(st) ? 'exited' : 'created';
      return { id: s.ID, labels: s.Spec?.Labels ?? {}, state };
    });
  }

  // ---- networks ----

  async createNetwork(name: string, labels: Record<string, string>, internal: boolean): Promise<string> {
    const n = await this.ask(`creating network ${name}`, (abortSignal) =>
      this.docker.createNetwork({
        Name: name,
        Driver: 'overlay',
        Internal: internal,
        // Only services join; nothing started by hand on a node does.
        Attachable: false,
        Labels: labels,
        CheckDuplicate: true,
        abortSignal,
      }),
    );
    return n.id;
  }

  /**
   * Removes the network; fine when it is gone. An overlay whose last task has just ended is
   * still "in use" for a moment while the nodes release their endpoints, so that is retried.
   */
  async removeNetwork(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.call('removing the network', (abortSignal) => this.docker.getNetwork(id).remove({ abortSignal }));
        return;
      } catch (err) {
        if (err instanceof EngineDeadlineError) throw err;
        if (statusOf(err) === 404) return;
        if (attempt < 20 && /in use|active endpoints/i.test(engineMessage(err))) {
          await sleep(500);
          continue;
        }
        throw EngineError.from(err, 'removing the network failed');
      }
    }
  }

  async listManagedNetworks(labelSelector: Record<string, string>): Promise<ManagedNetwork[]> {
    const label = Object.entries(labelSelector).map(([k, v]) => `${k}=${v}`);
    if (!label.length) throw new Error('listManagedNetworks needs at least one label');
    const list = await this.ask('listing networks', (abortSignal) =>
      this.docker.listNetworks({ filters: { label, driver: ['overlay'] }, abortSignal }),
    );
    const out: ManagedNetwork[] = [];
    for (const n of list) {
      const labels = n.Labels ?? {};
      // A private network of a job without network is the service's business while it exists;
      // left behind (a crash between the two removals), it is the sweep's.
      const owner = labels[ISOLATES];
      if (owner && (await this.inspectService(owner))) continue;
      out.push({ id: n.Id, name: n.Name, labels });
    }
    return out;
  }

  // ---- archives ----

  putArchive(containerId: string, path: string, tar: Readable): Promise<void> {
    void containerId;
    void path;
    tar.destroy();
    return Promise.reject(
      new Error("a swarm's containers are reached through the node agent on their node, not through the manager (no putArchive)"),
    );
  }

  getArchive(containerId: string, path: string): Promise<Readable> {
    void containerId;
    void path;
    return Promise.reject(
      new Error("a swarm's containers are reached through the node agent on their node, not through the manager (no getArchive)"),
    );
  }
}
