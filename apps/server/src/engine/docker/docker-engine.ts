import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import Dockerode from 'dockerode';
import tar from 'tar-stream';
import type {
  ContainerEngine,
  ContainerSpec,
  EngineCapacity,
  EngineNode,
  ExitInfo,
  ImageInfo,
  ImageSummary,
  PullProgress,
  LogLineEvent,
  ManagedContainer,
  ManagedNetwork,
  ShellOptions,
  ShellSession,
  UsageSample,
} from '../container-engine.js';
import { ContainerGoneError, EngineDeadlineError, ImageArchiveError } from '../container-engine.js';
import { IdleDeadline } from './idle-deadline.js';
import { openDockerShell } from './docker-shell.js';
import { EngineError, engineMessage, statusOf } from './errors.js';
import { CallerError, callerDemuxer, pushWholeLog, type LogDemuxer } from './log-demux.js';
import { ProgressError, readProgress, type ProgressMessage } from './progress.js';
import { usageFromStats, type EngineStats } from './stats.js';

export { EngineError } from './errors.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const GiB = 1024 ** 3;

/**
 * A Docker client for `dockerHost` (default: DOCKER_HOST, else the local socket). Accepts
 * unix:///path, tcp://host:port (TLS when DOCKER_TLS_VERIFY=1 or port 2376, with the
 * certificates from DOCKER_CERT_PATH, as the docker CLI does), http:// and https://.
 */
export function createDockerClient(dockerHost: string | undefined = process.env.DOCKER_HOST): Dockerode {
  if (!dockerHost) return new Dockerode({ socketPath: DEFAULT_SOCKET });
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    throw new Error(`DOCKER_HOST "${dockerHost}" is not a URL; use unix:///var/run/docker.sock or tcp://host:2375`);
  }
  if (url.protocol === 'unix:') return new Dockerode({ socketPath: url.pathname || DEFAULT_SOCKET });
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:' || (url.protocol === 'tcp:' && (process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376'));
    const certDir = process.env.DOCKER_CERT_PATH;
    const certs =
      tls && certDir
        ? {
            ca: readFileSync(path.join(certDir, 'ca.pem')),
            cert: readFileSync(path.join(certDir, 'cert.pem')),
            key: readFileSync(path.join(certDir, 'key.pem')),
          }
        : {};
    return new Dockerode({
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || (tls ? 2376 : 2375)),
      protocol: tls ? 'https' : 'http',
      ...certs,
    });
  }
  throw new Error(`DOCKER_HOST "${dockerHost}": only unix://, tcp://, http:// and https:// are supported`);
}

export interface DockerEngineOptions {
  /** A client to use; otherwise one is made from `dockerHost` (see createDockerClient). */
  docker?: Dockerode;
  dockerHost?: string;
  /**
   * Labels for the engine's own short-lived containers (the ones readImageFile makes). The
   * default marks them managed without a job, so the runner's restart cleanup removes any that
   * a crash left behind.
   */
  helperLabels?: Record<string, string>;
  /** How long one engine call may take before it fails (default CALL_DEADLINE_MS). */
  callDeadlineMs?: number;
  /** How long an archive copied in or out may stand still before it fails (default STREAM_IDLE_MS). */
  streamIdleMs?: number;
}

/**
 * Every call on a job's way to its end has a deadline, so an engine that hangs (overloaded, a
 * container lock held) fails the call and the job ends with a reason instead of waiting for
 * ever. Generous: a busy 2-core engine has taken 20 s to remove a container here.
 */
export const CALL_DEADLINE_MS = 90_000;
/** An archive that moves no byte for this long has stalled. */
export const STREAM_IDLE_MS = 120_000;

export type DockerContainerSpec = ContainerSpec;

const DEFAULT_HELPER_LABELS = { 'tc.managed': '1', 'tc.role': 'image-probe' };

/** How many symbolic links readImageFile follows (e.g. /etc/passwd → ../usr/etc/passwd). */
const MAX_LINK_HOPS = 8;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asReadable(s: NodeJS.ReadableStream): Readable {
  return s instanceof Readable ? s : new Readable().wrap(s);
}

/**
 * The API's `since` as "seconds.nanoseconds". Engine 20.10 (API 1.41) honours the fraction to
 * the nanosecond and `since` is inclusive (checked: since = a line's exact stamp returns that
 * line, one nanosecond later does not), so this is not limited to whole seconds. A Date only
 * holds milliseconds, though: a resume from a line's `at` returns every line stamped in that
 * millisecond again (those before it too), which the caller has to skip.
 */
export function sinceParam(since: Date): string {
  const ms = since.getTime();
  const sec = Math.floor(ms / 1000);
  return `${sec}.${String(ms - sec * 1000).padStart(3, '0')}000000`;
}

const GPU_DRIVER_MISSING = /could not select device driver/i;

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** The engine's answers for a container that is gone or being removed. */
function gone(err: unknown): boolean {
  const s = statusOf(err);
  return s === 404 || (s === 409 && /dead or marked for removal|removal .*in progress/i.test(engineMessage(err)));
}

/** The smallest log file the engine is given (see engineLogConfig). */
export const ENGINE_LOG_FILE_MIN = 16 * 1024 * 1024;

/**
 * Bounds the engine's own copy of a container's log: four files of half the console's limit
 * (at least ENGINE_LOG_FILE_MIN), the oldest deleted when the newest fills, so 1.5–2 limits.
 * That is more than the console's tail (half a limit) needs when a restarted console resumes
 * from where its stored log ends. The floor is there because the files are also the buffer the
 * console reads from while a job prints: the engine's follow reader (20.10) moves to the new
 * file at each rotation and skips what it had not read of the old one, so small files lose
 * lines whenever the console lags a little behind a fast job.
 */
export function engineLogConfig(logMaxBytes: number): { Type: string; Config: Record<string, string> } {
  const size = Math.max(Math.ceil(logMaxBytes / 2), ENGINE_LOG_FILE_MIN);
  return { Type: 'json-file', Config: { 'max-size': String(size), 'max-file': '4' } };
}

/**
 * ContainerEngine on a Docker engine through dockerode. Everything goes through the engine's
 * API (archives in and out, logs), so the engine may be remote.
 */
export class DockerEngine implements ContainerEngine {
  readonly multiHost: boolean = false;
  readonly docker: Dockerode;
  private readonly helperLabels: Record<string, string>;
  private readonly callDeadlineMs: number;
  private readonly streamIdleMs: number;

  constructor(dockerOrOptions: Dockerode | DockerEngineOptions = {}) {
    const o: DockerEngineOptions = dockerOrOptions instanceof Dockerode ? { docker: dockerOrOptions } : dockerOrOptions;
    this.docker = o.docker ?? createDockerClient(o.dockerHost);
    this.helperLabels = o.helperLabels ?? DEFAULT_HELPER_LABELS;
    this.callDeadlineMs = o.callDeadlineMs ?? CALL_DEADLINE_MS;
    this.streamIdleMs = o.streamIdleMs ?? STREAM_IDLE_MS;
  }

  /**
   * Runs one engine request with a deadline: the request is aborted (its socket closed) and the
   * call fails with EngineDeadlineError when the engine has not answered in time. The race
   * covers a request that ignores the abort.
   */
  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>, ms = this.callDeadlineMs): Promise<T> {
    const ctl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctl.abort();
        reject(new EngineDeadlineError(`${what}: the engine did not answer within ${duration(ms)}`));
      }, ms);
    });
    try {
      return await Promise.race([fn(ctl.signal), late]);
    } catch (err) {
      if (ctl.signal.aborted && !(err instanceof EngineDeadlineError)) {
        throw new EngineDeadlineError(`${what}: the engine did not answer within ${duration(ms)}`, { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether the container is still there to be used: not gone, not being removed. (A 404 from
   * the archive API may also mean a missing path in a container that exists.)
   */
  private async exists(containerId: string): Promise<boolean> {
    try {
      const { State } = await this.call('inspecting the container', (abortSignal) =>
        this.docker.getContainer(containerId).inspect({ abortSignal }),
      );
      return State.Status !== 'removing' && !State.Dead;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err instanceof EngineDeadlineError ? err : EngineError.from(err);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.call('ping', () => this.docker.ping());
    } catch (err) {
      throw EngineError.from(err, 'the Docker engine does not answer');
    }
  }

  async capacity(): Promise<EngineCapacity> {
    const info: unknown = await this.call('reading the engine info', () => this.docker.info()).catch((err: unknown) => {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, 'reading the engine info failed');
    });
    if (!isRecord(info)) throw new EngineError('the engine info is not an object', undefined);
    const vcpus = typeof info.NCPU === 'number' ? info.NCPU : 0;
    const memoryGiB = typeof info.MemTotal === 'number' ? info.MemTotal / GiB : 0;
    return { vcpus, memoryGiB, gpus: countGpus(info.GenericResources) };
  }

  /** The engine's host as the one node every job's containers share. */
  async nodes(): Promise<EngineNode[]> {
    const [capacity, info] = await Promise.all([this.capacity(), this.call('reading the engine info', () => this.docker.info())]);
    const name = isRecord(info) && typeof info.Name === 'string' ? info.Name : 'local';
    return [{ id: 'local', hostname: name, addr: '', labels: {}, ready: true, ...capacity }];
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const img = await this.call(`inspecting image ${ref}`, () => this.docker.getImage(ref).inspect());
      return { id: img.Id, user: img.Config?.User ?? '', repoDigests: img.RepoDigests ?? [] };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err);
    }
  }

  async pullImage(ref: string, onProgress?: (p: PullProgress) => void): Promise<void> {
    try {
      // A failure after the pull has begun (unknown tag, registry gone) arrives as an error
      // message inside the 200 response; one before it (no such host) as an HTTP 500.
      const stream = await this.docker.pull(ref);
      await readProgress(
        stream,
        onProgress &&
          ((m) => {
            if (!m.status) return;
            onProgress({
              status: m.status,
              ...(m.id ? { layer: m.id } : {}),
              ...(m.progressDetail?.current !== undefined ? { current: m.progressDetail.current } : {}),
              ...(m.progressDetail?.total !== undefined ? { total: m.progressDetail.total } : {}),
            });
          }),
      );
    } catch (err) {
      throw EngineError.from(err);
    }
  }

  async listImages(): Promise<ImageSummary[]> {
    try {
      const list = await this.docker.listImages();
      return list.map((i) => ({
        id: i.Id,
        repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        repoDigests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
        sizeBytes: Math.max(0, i.Size),
        created: new Date(i.Created * 1000),
      }));
    } catch (err) {
      throw EngineError.from(err, 'listing images failed');
    }
  }

  async loadImage(tarStream: Readable): Promise<string[]> {
    let messages: ProgressMessage[];
    // A source that breaks off (the uploader went away) would leave the engine waiting for the
    // rest of the archive forever: pipe() does not end the request it feeds.
    const cut = new AbortController();
    const abort = (): void => {
      if (!tarStream.readableEnded) cut.abort();
    };
    tarStream.once('error', abort).once('close', abort);
    try {
      // dockerode pipes the stream into the request, so the archive is never held whole.
      const res = await this.docker.loadImage(tarStream, { quiet: true, abortSignal: cut.signal });
      messages = await readProgress(res);
    } catch (err) {
      if (!tarStream.destroyed) tarStream.destroy();
      // The engine read the upload and said no (not a tarball, no manifest …); anything
      // else (engine gone) stays an engine failure.
      if (err instanceof ProgressError || statusOf(err) !== undefined) {
        throw new ImageArchiveError(engineMessage(err), { cause: err });
      }
      throw EngineError.from(err, 'loading the image archive failed');
    }
    const refs: string[] = [];
    for (const m of messages) {
      for (const line of (m.stream ?? '').split('\n')) {
        const hit = /^Loaded image(?: ID)?: (\S+)\s*$/.exec(line.trim());
        if (hit) refs.push(hit[1]!);
      }
    }
    return refs;
  }

  async readImageFile(ref: string, filePath: string, maxBytes: number): Promise<string | null> {
    let container: Dockerode.Container;
    try {
      container = await this.call(`reading ${filePath} from image ${ref}`, (abortSignal) =>
        this.docker.createContainer({
          abortSignal,
          Image: ref,
          // Never started; a command is still required for images that declare none.
          Cmd: ['/tc-image-probe'],
          Labels: this.helperLabels,
          NetworkDisabled: true,
          HostConfig: { NetworkMode: 'none' },
        }),
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, `reading ${filePath} from image ${ref} failed`);
    }
    try {
      let p = path.posix.normalize(filePath);
      for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
        const entry = await readFirstEntry(container, p, maxBytes, this.callDeadlineMs);
        if (!entry) return null;
        if (entry.kind === 'file') return entry.content.toString('utf8');
        if (entry.kind !== 'symlink') return null;
        p = path.posix.resolve(path.posix.dirname(p), entry.target);
      }
      return null;
    } finally {
      await this.remove(container.id).catch(() => undefined);
    }
  }

  async createContainer(spec: DockerContainerSpec): Promise<string> {
    const gpus = spec.gpus ?? 0;
    try {
      const c = await this.call('creating the container', (abortSignal) =>
        this.docker.createContainer({
          abortSignal,
          name: spec.name,
          Image: spec.image,
          // The boot command alone, as documented: an empty list clears the image's ENTRYPOINT
          // (checked on engine 20.10), which would otherwise run first and get it as arguments.
          Entrypoint: [],
          Cmd: spec.cmd,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          Labels: spec.labels,
          Hostname: spec.hostname,
          ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
          // No User: running as the image's default user is what the image check verified.
          Tty: false,
          OpenStdin: false,
          AttachStdin: false,
          HostConfig: {
            NanoCpus: spec.nanoCpus,
            Memory: spec.memoryBytes,
            // Equal to Memory: the flavor's memory is the whole budget, no swap on top.
            MemorySwap: spec.memoryBytes,
            PidsLimit: spec.pidsLimit,
            // A boot command is usually a shell, which as PID 1 ignores SIGTERM; with an init
            // process in front, stop() ends the job at once instead of after the grace period.
            Init: true,
            SecurityOpt: ['no-new-privileges'],
            // The boot command runs as UID 1101 and needs no capability; dropping them all keeps a
            // setuid binary or a root image slipped past the check from using any.
            CapDrop: ['ALL'],
            Privileged: false,
            NetworkMode: spec.networkMode,
            ...(spec.mounts?.length ? { Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`) } : {}),
            // Logs and the output folder are read after exit, so the container must outlive it.
            AutoRemove: false,
            ...(gpus > 0 ? { DeviceRequests: [{ Driver: 'nvidia', Count: gpus, Capabilities: [['gpu']] }] } : {}),
            ...(spec.logMaxBytes ? { LogConfig: engineLogConfig(spec.logMaxBytes) } : {}),
          },
          ...(spec.networkAliases?.length
            ? { NetworkingConfig: { EndpointsConfig: { [spec.networkMode]: { Aliases: spec.networkAliases } } } }
            : {}),
        }),
      );
      return c.id;
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err);
    }
  }

  /**
   * Streams the tar into the container, extracted at `dir`.
   *
   * Checked on engine 20.10: entries keep the uid/gid of their tar headers (a folder written
   * with uid 1101 is writable by the image's user 1101), missing parent folders are made
   * root:root 0755, and an entry for a folder that already exists changes its owner to the
   * header's. The API's `copyUIDGID=1` is not used: it chowns everything to the container's
   * user, which the engine resolves through the image's /etc/passwd, and fails ("getent unable
   * to find entry "1101" in passwd database") for a numeric user that the image does not list.
   */
  async putArchive(containerId: string, dir: string, tarStream: Readable): Promise<void> {
    // However large the archive, it must keep moving: a stalled engine (or source) fails the copy.
    const cut = new AbortController();
    const idle = new IdleDeadline(this.streamIdleMs, () => cut.abort());
    try {
      await this.docker.getContainer(containerId).putArchive(idle.watch(tarStream), { path: dir, abortSignal: cut.signal });
    } catch (err) {
      // The producer would otherwise wait forever on a reader that is gone.
      if (!tarStream.destroyed) tarStream.destroy();
      if (idle.expired) {
        throw new EngineDeadlineError(`copying into the container stalled: nothing moved for ${duration(this.streamIdleMs)}`, {
          cause: err,
        });
      }
      if (statusOf(err) === 404 && !(await this.exists(containerId))) throw new ContainerGoneError(containerId, { cause: err });
      throw EngineError.from(err);
    } finally {
      idle.clear();
    }
  }

  async start(containerId: string): Promise<void> {
    try {
      await this.call('starting the container', (abortSignal) => this.docker.getContainer(containerId).start({ abortSignal }));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (statusOf(err) === 304) return;
      if (statusOf(err) === 404) throw new ContainerGoneError(containerId, { cause: err });
      const msg = engineMessage(err);
      if (GPU_DRIVER_MISSING.test(msg)) {
        throw new EngineError(
          `the engine cannot provide GPUs: it has no NVIDIA runtime (install the NVIDIA Container Toolkit on the engine's host, or use a CPU flavor); engine said: ${msg}`,
          statusOf(err),
          { cause: err },
        );
      }
      throw EngineError.from(err);
    }
  }

  /**
   * Follows the log until the container has stopped and everything it wrote is delivered.
   *
   * Engine 20.10 sometimes ends a follow request before sending the container's last message
   * when that message is a line without a newline (about 1 run in 10 here for
   * `printf "no newline"` as the last command), while a request made after the container
   * stopped has it. So when the follow ends, the container's state decides: stopped → one more
   * request from the last stamp seen picks up the rest; still running (the connection broke,
   * or the engine ended the stream) → follow again from there. Frames seen twice are dropped
   * by the demuxer, which keeps an open line open across requests.
   */
  async followLogs(containerId: string, onLine: (line: LogLineEvent) => void, since?: Date, drain?: AbortSignal): Promise<void> {
    const c = this.docker.getContainer(containerId);
    // The caller's own failure must end the follow, not pass for a broken connection.
    const demux = callerDemuxer(onLine);
    const first = since ? sinceParam(since) : undefined;
    if (since) demux.startAt(since);
    /** Whether the container was found stopped before the current request was made. */
    let stoppedBefore = false;
    let fruitless = 0;
    for (let round = 0; ; round++) {
      const from = round === 0 ? first : (demux.resume() ?? first);
      if (drain?.aborted) {
        // The container has exited but the follow did not end: one plain read of the rest.
        await this.readRest(c, containerId, demux, from);
        break;
      }
      const framesBefore = demux.frames;
      let broken: unknown = null;
      try {
        const stream = await c.logs({
          follow: true,
          stdout: true,
          stderr: true,
          timestamps: true,
          ...(from ? { since: from } : {}),
          ...(drain ? { abortSignal: drain } : {}),
        });
        const cut = (): void => {
          asReadable(stream).destroy();
        };
        drain?.addEventListener('abort', cut, { once: true });
        try {
          for await (const chunk of stream) demux.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        } finally {
          drain?.removeEventListener('abort', cut);
        }
      } catch (err) {
        if (err instanceof CallerError) throw err.cause;
        if (drain?.aborted) continue;
        if (gone(err)) throw new ContainerGoneError(containerId, { cause: err });
        // A refused request (a driver that cannot be read …) is final.
        if (statusOf(err) !== undefined) throw EngineError.from(err);
        broken = err;
      }
      if (drain?.aborted) continue;
      if (stoppedBefore && broken === null) break;
      let running: boolean;
      try {
        running = (await this.call('inspecting the container', (abortSignal) => c.inspect({ abortSignal }))).State.Running;
      } catch (err) {
        // Removed under us: what arrived is all there is; the wait says it was removed.
        if (statusOf(err) === 404 && broken === null) break;
        if (err instanceof EngineDeadlineError) throw err;
        throw EngineError.from(broken ?? err);
      }
      stoppedBefore = !running;
      fruitless = broken !== null || demux.frames === framesBefore ? fruitless + 1 : 0;
      if (fruitless > 5) {
        const why = broken instanceof Error ? broken.message : 'the engine keeps ending the log stream';
        throw new EngineError(`the log stream broke off: ${why}`, undefined, { cause: broken });
      }
      if (running && fruitless > 0) await new Promise((r) => setTimeout(r, 100 * fruitless));
    }
    demux.end();
    if (demux.engineErrors.length) {
      throw new EngineError(`the engine could not read the whole log: ${demux.engineErrors.join('; ')}`, undefined);
    }
  }

  /** What the engine has of the log from `from` on, in one request that ends (no follow). */
  private async readRest(c: Dockerode.Container, containerId: string, demux: LogDemuxer, from: string | undefined): Promise<void> {
    let rest: unknown;
    try {
      rest = await this.call('reading the rest of the log', (abortSignal) =>
        c.logs({ follow: false, stdout: true, stderr: true, timestamps: true, abortSignal, ...(from ? { since: from } : {}) }),
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (gone(err)) throw new ContainerGoneError(containerId, { cause: err });
      throw EngineError.from(err);
    }
    pushWholeLog(demux, rest);
  }

  async wait(containerId: string): Promise<ExitInfo> {
    const c = this.docker.getContainer(containerId);
    try {
      // No deadline: a job runs as long as it runs (its max runtime is the runner's business).
      const res: unknown = await c.wait();
      const exitCode = isRecord(res) && typeof res.StatusCode === 'number' ? res.StatusCode : -1;
      const state = (await this.call('inspecting the container', (abortSignal) => c.inspect({ abortSignal }))).State;
      // `docker rm -f` marks the container for removal first, then kills it: the exit this wait
      // saw is that kill, not the boot command's own end.
      if (state.Status === 'removing' || state.Dead) throw new ContainerGoneError(containerId);
      let oomKilled = state.OOMKilled === true;
      // Engine 20.10 on cgroup v1 misses some OOM kills under load (about 1 in 16 with several
      // at once here): OOMKilled false, though the kernel killed a process. Its event log
      // sometimes still has the `oom` event. Asked whatever the exit code: a boot command whose
      // child was killed may still exit 0, and that run is not a success either.
      if (!oomKilled) oomKilled = await this.oomEventSeen(containerId, state.StartedAt).catch(() => false);
      return { exitCode, oomKilled };
    } catch (err) {
      if (err instanceof EngineDeadlineError || err instanceof ContainerGoneError) throw err;
      if (statusOf(err) === 404) throw new ContainerGoneError(containerId, { cause: err });
      throw EngineError.from(err);
    }
  }

  private async oomEventSeen(containerId: string, startedAt: string): Promise<boolean> {
    const since = Math.floor(Date.parse(startedAt) / 1000) - 1;
    // `until` now, not later: the engine holds the response open until `until` has passed.
    const until = Date.now() / 1000;
    return this.call('reading the engine events', async (abortSignal) => {
      const stream = await this.docker.getEvents({ since, until, filters: { container: [containerId], event: ['oom'] }, abortSignal });
      let body = '';
      for await (const chunk of stream) body += String(chunk);
      return body.trim().length > 0;
    });
  }

  async stop(containerId: string, graceSeconds: number): Promise<void> {
    const t = Math.max(0, Math.round(graceSeconds));
    try {
      await this.call(
        'stopping the container',
        (abortSignal) => this.docker.getContainer(containerId).stop({ t, abortSignal }),
        t * 1000 + this.callDeadlineMs,
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      // 304: it had already stopped; 404: it is gone. Either way nothing runs any more.
      const s = statusOf(err);
      if (s === 304 || s === 404) return;
      throw EngineError.from(err, 'stopping the container failed');
    }
  }

  async getArchive(containerId: string, dir: string): Promise<Readable> {
    let raw: Readable;
    try {
      raw = asReadable(
        await this.call('copying out of the container', (abortSignal) =>
          this.docker.getContainer(containerId).getArchive({ path: dir, abortSignal }),
        ),
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      // 404 is also the answer for a path the container lacks.
      // A container being removed answers 404 or 500 ("RWLayer … is unexpectedly nil").
      if ((statusOf(err) === 404 || statusOf(err) === 500) && !(await this.exists(containerId))) {
        throw new ContainerGoneError(containerId, { cause: err });
      }
      throw EngineError.from(err);
    }
    // Closing the returned stream closes the engine's response, which releases the container:
    // while the response is open, a removal of the container waits.
    const stalled = new EngineDeadlineError(`copying out of the container stalled: nothing moved for ${duration(this.streamIdleMs)}`);
    const idle = new IdleDeadline(this.streamIdleMs, () => watched.destroy(stalled));
    const watched = idle.watch(raw);
    watched.once('close', () => idle.clear());
    return watched;
  }

  async remove(containerId: string): Promise<void> {
    try {
      // v: anonymous volumes a user's image declares (VOLUME) would otherwise pile up.
      await this.call('removing the container', (abortSignal) =>
        this.docker.getContainer(containerId).remove({ force: true, v: true, abortSignal }),
      );
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      const s = statusOf(err);
      if (s === 404) return;
      // Someone else is already removing it.
      if (s === 409 && /already in progress/i.test(engineMessage(err))) return;
      throw EngineError.from(err, 'removing the container failed');
    }
  }

  async stats(containerId: string): Promise<UsageSample | null> {
    try {
      // Not one-shot: the engine takes two readings about a second apart, so the CPU delta is there.
      const raw = await this.call('reading the container stats', (abortSignal) =>
        // @types/dockerode leaves abortSignal out of stats' options; dockerode passes it on.
        this.docker.getContainer(containerId).stats({ stream: false, abortSignal } as { stream: false }),
      );
      return usageFromStats(raw as EngineStats);
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (gone(err)) throw new ContainerGoneError(containerId, { cause: err });
      throw EngineError.from(err, 'reading the container stats failed');
    }
  }

  async shell(containerId: string, opts: ShellOptions): Promise<ShellSession> {
    // A swarm manager's engine does not hold the other nodes' containers.
    if (this.multiHost) throw new EngineError('a terminal is not available on a multi-host engine', 501);
    return openDockerShell(this.docker, containerId, opts, (what, fn) => this.call(what, fn));
  }

  async listManaged(labelSelector: Record<string, string>): Promise<ManagedContainer[]> {
    const label = Object.entries(labelSelector).map(([k, v]) => `${k}=${v}`);
    // An empty filter would list every container on the engine, the console's or not.
    if (!label.length) throw new Error('listManaged needs at least one label');
    try {
      const list = await this.call('listing containers', (abortSignal) =>
        this.docker.listContainers({ all: true, filters: { label }, abortSignal }),
      );
      return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State }));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, 'listing containers failed');
    }
  }

  async createNetwork(name: string, labels: Record<string, string>, internal: boolean): Promise<string> {
    try {
      const n = await this.call(`creating network ${name}`, (abortSignal) =>
        this.docker.createNetwork({ Name: name, Driver: 'bridge', Internal: internal, Labels: labels, CheckDuplicate: true, abortSignal }),
      );
      return n.id;
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, `creating network ${name} failed`);
    }
  }

  async removeNetwork(id: string): Promise<void> {
    try {
      await this.call('removing the network', (abortSignal) => this.docker.getNetwork(id).remove({ abortSignal }));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      if (statusOf(err) === 404) return;
      throw EngineError.from(err, 'removing the network failed');
    }
  }

  async listManagedNetworks(labelSelector: Record<string, string>): Promise<ManagedNetwork[]> {
    const label = Object.entries(labelSelector).map(([k, v]) => `${k}=${v}`);
    if (!label.length) throw new Error('listManagedNetworks needs at least one label');
    try {
      const list = await this.call('listing networks', (abortSignal) => this.docker.listNetworks({ filters: { label }, abortSignal }));
      return list.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
    } catch (err) {
      if (err instanceof EngineDeadlineError) throw err;
      throw EngineError.from(err, 'listing networks failed');
    }
  }
}

/**
 * GPUs the engine advertises as generic resources (`node-generic-resources` in daemon.json,
 * e.g. "NVIDIA-GPU=0" per device or "gpu=2" as a count).
 */
export function countGpus(resources: unknown): number {
  if (!Array.isArray(resources)) return 0;
  let n = 0;
  for (const r of resources) {
    if (!isRecord(r)) continue;
    const discrete = r.DiscreteResourceSpec;
    const named = r.NamedResourceSpec;
    if (isRecord(discrete) && typeof discrete.Kind === 'string' && /gpu/i.test(discrete.Kind) && typeof discrete.Value === 'number') {
      n += discrete.Value;
    } else if (isRecord(named) && typeof named.Kind === 'string' && /gpu/i.test(named.Kind)) {
      n += 1;
    }
  }
  return n;
}

type ArchiveEntry = { kind: 'file'; content: Buffer } | { kind: 'symlink'; target: string } | { kind: 'other' };

/**
 * The first entry of the container's archive of `p` (the entry for `p` itself), reading at
 * most maxBytes of a file's content; null when the path does not exist. The rest of the
 * archive (a whole folder, if `p` is one) is not read.
 */
async function readFirstEntry(
  container: Dockerode.Container,
  p: string,
  maxBytes: number,
  deadlineMs: number,
): Promise<ArchiveEntry | null> {
  let raw: NodeJS.ReadableStream;
  const cut = new AbortController();
  // The probe reads a few kilobytes: the whole read has the one deadline.
  const timer = setTimeout(() => cut.abort(), deadlineMs);
  timer.unref();
  try {
    raw = await container.getArchive({ path: p, abortSignal: cut.signal });
  } catch (err) {
    clearTimeout(timer);
    if (cut.signal.aborted)
      throw new EngineDeadlineError(`reading ${p} from the image: the engine did not answer within ${duration(deadlineMs)}`);
    if (statusOf(err) === 404) return null;
    throw EngineError.from(err, `reading ${p} from the image failed`);
  }
  const source = asReadable(raw);
  const extract = tar.extract();
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (h.type === 'symlink' && h.linkname) {
        entry.resume();
        return { kind: 'symlink', target: h.linkname };
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
        return { kind: 'other' };
      }
      const parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry) {
        const b = chunk as Buffer;
        parts.push(b);
        size += b.length;
        if (size >= maxBytes) break;
      }
      return { kind: 'file', content: Buffer.concat(parts).subarray(0, maxBytes) };
    }
    return null;
  } finally {
    clearTimeout(timer);
    source.unpipe(extract);
    source.destroy();
    extract.destroy();
  }
}
