import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { AGENT_NODE_ROOT, AgentError, checkWorkDir, type AgentCommand, type AgentMessage, type NodeAgent } from '../node-agent.js';
import { AGENT_LABEL, AGENT_NODE, AGENT_SCRIPT, ensureAgentImage } from './agent-image.js';
import { engineMessage, statusOf } from './errors.js';
import { LogDemuxer } from './log-demux.js';

/** Building the agent's image (first use only) and starting its container. */
const ENSURE_TIMEOUT_MS = 180_000;
/** Creating and starting one agent command. */
const START_TIMEOUT_MS = 30_000;
/** The agent speaks at least every 200 ms while data moves and every minute otherwise. */
const SILENCE_TIMEOUT_MS = 300_000;
/** How long an aborted command may take to be gone. */
const KILL_TIMEOUT_MS = 15_000;
const STDERR_TAIL = 4096;

/** What the agent container may do beyond nothing: own, write and remove the job's files, and become the job's UID. */
export const AGENT_CAPABILITIES = ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER'];

export interface DockerNodeAgentOptions {
  consoleId: string;
  /** The engine host's folder for work folders, e.g. /var/lib/training-console/node/<consoleId>. */
  nodeRoot: string;
  /** Added to the container's labels (tests add theirs). */
  labels?: Record<string, string>;
}

export function agentContainerName(consoleId: string): string {
  return `tc-${consoleId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12)}-node-agent`;
}

/** Removes a console's agent container (tests, uninstall); gone already is fine. */
export async function removeAgent(docker: Dockerode, consoleId: string): Promise<void> {
  try {
    await docker.getContainer(agentContainerName(consoleId)).remove({ force: true });
  } catch (err) {
    if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
  }
}

/** The container went away (or stopped) under us: worth one fresh ensure. */
class ContainerGone extends Error {}

/**
 * The engine's runtime could not start a process in the container at all ("OCI runtime exec
 * failed", exit 126), so nothing of the command ran. Seen in containers the engine itself
 * restarted as it came back up; a container made afresh works, so the agent is replaced.
 */
class ContainerUnusable extends Error {}

/** Whether an exec's exit and stderr say the runtime failed before the command's own process ran. */
export function runtimeExecFailed(code: number | null, stderr: string): boolean {
  return code === 126 && /^OCI runtime exec failed/m.test(stderr);
}

function within<T>(ms: number, p: Promise<T>, what: string, onLate?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new AgentError(`${what} took longer than ${ms / 1000} s`, null));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        if (late) onLate?.(v);
        else resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isMessage(v: unknown): v is AgentMessage {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/**
 * The node agent on a Docker engine: one long-lived container per console (our own image, see
 * agent-image.ts) with the engine host's node root mounted at AGENT_NODE_ROOT; each command is a
 * `docker exec` of the agent program in it, talking JSON over the exec's stdin and stdout.
 */
export class DockerNodeAgent implements NodeAgent {
  readonly containerName: string;
  private readonly labels: Record<string, string>;
  private ready = false;
  private ensuring: Promise<void> | null = null;
  /** A removal of an unusable agent under way: concurrent commands that hit it share it. */
  private replacing: Promise<void> | null = null;

  constructor(
    private readonly docker: Dockerode,
    private readonly opts: DockerNodeAgentOptions,
  ) {
    this.containerName = agentContainerName(opts.consoleId);
    this.labels = { ...opts.labels, [AGENT_LABEL]: '1', 'tc.console': opts.consoleId };
  }

  hostPath(workDir: string): string {
    return `${this.opts.nodeRoot.replace(/\/+$/, '')}/${checkWorkDir(workDir)}`;
  }

  agentPath(workDir: string): string {
    return `${AGENT_NODE_ROOT}/${checkWorkDir(workDir)}`;
  }

  ensure(): Promise<void> {
    if (this.ready) return Promise.resolve();
    // A deadline on the whole (image build, inspect, create, start): a job waiting on an engine
    // that hangs fails at its "node agent" step instead of waiting for ever.
    this.ensuring ??= within(ENSURE_TIMEOUT_MS, this.ensureNow(), 'making the node agent ready')
      .then(() => {
        this.ready = true;
      })
      .finally(() => {
        this.ensuring = null;
      });
    return this.ensuring;
  }

  private async ensureNow(): Promise<void> {
    const image = await ensureAgentImage(this.docker);
    const container = this.docker.getContainer(this.containerName);
    for (let attempt = 0; attempt < 20; attempt++) {
      // Another ensure may be mid-way (a removal the engine takes seconds over when busy): look
      // again after a growing pause rather than spin through the attempts at once.
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1_000)));
      let info: Dockerode.ContainerInspectInfo | null = null;
      try {
        info = await container.inspect();
      } catch (err) {
        if (statusOf(err) !== 404)
          throw new Error(`the Docker engine could not inspect the node agent: ${engineMessage(err)}`, { cause: err });
      }
      if (info) {
        // A paused agent refuses every exec (409): it is replaced like one of another image.
        if (info.Image === image.id && info.State.Running && !info.State.Restarting && !info.State.Paused) return;
        if (info.Image === image.id && ['created', 'exited'].includes(info.State.Status)) {
          // Made by another ensure that is about to start it, or left stopped by an engine that
          // restarted: starting it is right either way (a second start is a harmless 304).
          if (await this.start(container)) return;
          continue;
        }
        try {
          await container.remove({ force: true });
        } catch (err) {
          if (statusOf(err) !== 404 && statusOf(err) !== 409)
            throw new Error(`replacing the node agent failed: ${engineMessage(err)}`, { cause: err });
        }
      }
      try {
        await this.docker.createContainer({
          name: this.containerName,
          Image: image.id,
          Cmd: [AGENT_NODE, AGENT_SCRIPT, 'idle'],
          Labels: this.labels,
          HostConfig: {
            Init: true,
            // The store may well be on the host's loopback (the embedded one is).
            NetworkMode: 'host',
            Binds: [`${this.opts.nodeRoot}:${AGENT_NODE_ROOT}`],
            CapDrop: ['ALL'],
            CapAdd: AGENT_CAPABILITIES,
            SecurityOpt: ['no-new-privileges'],
            ReadonlyRootfs: true,
            Tmpfs: { '/tmp': 'rw,noexec,nosuid,size=16m' },
            Memory: 1024 ** 3,
            PidsLimit: 256,
            RestartPolicy: { Name: 'unless-stopped' },
          },
        });
      } catch (err) {
        // A concurrent ensure took the name first: look again.
        if (statusOf(err) === 409) continue;
        throw new Error(`the Docker engine could not create the node agent: ${engineMessage(err)}`, { cause: err });
      }
      if (await this.start(container)) return;
      // Removed under us between create and start: make it again.
    }
    throw new Error(`the node agent container ${this.containerName} could not be made to run (it kept changing under this console)`);
  }

  /**
   * Starts the agent's container; false when it vanished meanwhile (make it again). An engine that
   * has just restarted starts its own containers (the restart policy) and for a moment refuses
   * another start ("failed to update store for object type *libnetwork.endpoint"): tried again
   * for a few seconds before giving up.
   */
  private async start(container: Dockerode.Container): Promise<boolean> {
    for (let tries = 1; ; tries++) {
      try {
        await container.start();
        return true;
      } catch (err) {
        if (statusOf(err) === 304) return true;
        if (statusOf(err) === 404) return false;
        if (tries >= 6) throw new Error(`the Docker engine could not start the node agent: ${engineMessage(err)}`, { cause: err });
        await sleep(1_000);
      }
    }
  }

  async run(cmd: AgentCommand, onMessage: (m: AgentMessage) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.ensure();
    try {
      return await this.runOnce(cmd, onMessage, signal);
    } catch (err) {
      if (!(err instanceof ContainerGone) && !(err instanceof ContainerUnusable)) throw err;
      this.ready = false;
      if (err instanceof ContainerUnusable) await this.replace();
      await this.ensure();
      try {
        return await this.runOnce(cmd, onMessage, signal);
      } catch (again) {
        if (again instanceof ContainerGone) throw new AgentError(`the node agent is not running: ${again.message}`, null, { cause: again });
        if (again instanceof ContainerUnusable)
          throw new AgentError(`the engine cannot run commands in the node agent: ${again.message}`, null, { cause: again });
        throw again;
      }
    }
  }

  /** Removes the agent's container so the next ensure makes it afresh. */
  private replace(): Promise<void> {
    this.replacing ??= within(
      START_TIMEOUT_MS,
      this.docker.getContainer(this.containerName).remove({ force: true }),
      'removing the node agent',
    )
      .catch((err: unknown) => {
        if (err instanceof AgentError) throw err;
        if (statusOf(err) !== 404 && statusOf(err) !== 409)
          throw new AgentError(`replacing the node agent failed: ${engineMessage(err)}`, null);
      })
      .finally(() => {
        this.replacing = null;
      });
    return this.replacing;
  }

  private async runOnce(cmd: AgentCommand, onMessage: (m: AgentMessage) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const tag = randomBytes(8).toString('hex');
    const container = this.docker.getContainer(this.containerName);
    let exec: Dockerode.Exec;
    let stream: Duplex;
    try {
      exec = await within(
        START_TIMEOUT_MS,
        container.exec({
          Cmd: [AGENT_NODE, AGENT_SCRIPT, cmd.command, tag],
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
        }),
        'creating the node agent command',
      );
      stream = await within(START_TIMEOUT_MS, exec.start({ hijack: true, stdin: true }), 'starting the node agent command', (late) =>
        late.destroy(),
      );
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || status === 409) throw new ContainerGone(engineMessage(err), { cause: err });
      if (err instanceof AgentError) throw err;
      throw new AgentError(`the node agent command could not be started: ${engineMessage(err)}`, null, { cause: err });
    }

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let ended = false;
      let info: Extract<AgentMessage, { type: 'error' }> | null = null;
      let stderr = '';
      let lastHeard = Date.now();
      let heard = false;
      const silence = setInterval(() => {
        if (Date.now() - lastHeard >= SILENCE_TIMEOUT_MS) {
          abandon(new AgentError(`the node agent stopped answering (nothing for ${SILENCE_TIMEOUT_MS / 1000} s)`, null));
        }
      }, 5_000);

      const cleanup = (): void => {
        clearInterval(silence);
        signal?.removeEventListener('abort', onAbort);
      };
      /** Ends the agent-side process, then rejects: nothing of the command may go on. */
      const abandon = (err: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        stream.destroy();
        void this.kill(tag, exec).then(
          () => reject(err),
          (killErr: unknown) =>
            reject(
              new AgentError(`${(err as Error).message ?? String(err)}; ending it failed too: ${(killErr as Error).message}`, null, {
                cause: err,
              }),
            ),
        );
      };
      const onAbort = (): void => abandon(signal?.reason ?? new Error('aborted'));

      const demux = new LogDemuxer((line) => {
        if (settled) return;
        if (line.stream === 'stderr') {
          stderr = `${stderr}${line.text}\n`.slice(-STDERR_TAIL);
          return;
        }
        let m: unknown;
        try {
          m = JSON.parse(line.text);
        } catch {
          m = null;
        }
        if (!isMessage(m)) {
          stderr = `${stderr}${line.text}\n`.slice(-STDERR_TAIL);
          return;
        }
        lastHeard = Date.now();
        heard = true;
        if (m.type === 'error') info = m;
        if (m.type === 'end') ended = true;
        try {
          onMessage(m);
        } catch (err) {
          // The caller cannot take the rest: the command stops here.
          abandon(err);
        }
      }, false);

      const finish = async (): Promise<void> => {
        demux.end();
        if (settled) return;
        const code = await this.exitCode(exec);
        if (settled) return;
        const tail = stderr.trim();
        // Still running with its output cut off: it must not go on unwatched.
        if (code === null && !info)
          return abandon(new AgentError(`the connection to the node agent broke${tail ? `: ${tail}` : ''}`, null));
        settled = true;
        cleanup();
        if (!info && !heard && runtimeExecFailed(code, tail)) reject(new ContainerUnusable(tail));
        else if (info) reject(new AgentError(info.message, info));
        else if (code === 0 && ended) resolve();
        else if (code === 0) reject(new AgentError(`the node agent ended without finishing${tail ? `: ${tail}` : ''}`, null));
        else reject(new AgentError(`the node agent exited with code ${code}${tail ? `: ${tail}` : ''}`, null));
      };

      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.on('error', (err) => {
        stderr = `${stderr}${err.message}\n`.slice(-STDERR_TAIL);
      });
      stream.once('close', () => void finish());
      // All the input, then end of stdin (the engine passes the half-close on).
      stream.end(JSON.stringify(cmd.input));
    });
  }

  /** The command's exit code once it has ended; null when it still runs (the stream broke). */
  private async exitCode(exec: Dockerode.Exec): Promise<number | null> {
    for (let i = 0; i < 40; i++) {
      try {
        const e = await exec.inspect();
        if (!e.Running) return e.ExitCode ?? null;
      } catch (err) {
        if (statusOf(err) === 404) return null;
      }
      await sleep(i < 10 ? 20 : 100);
    }
    return null;
  }

  /**
   * Ends the agent command carrying `tag` (`agent kill <tag>` finds it by its command line) and
   * waits until the engine reports it ended. Tried again while it runs: it may not have been
   * running yet, or changed its UID between the look and the signal.
   */
  private async kill(tag: string, exec: Dockerode.Exec): Promise<void> {
    const container = this.docker.getContainer(this.containerName);
    const deadline = Date.now() + KILL_TIMEOUT_MS;
    for (;;) {
      try {
        if (!(await exec.inspect()).Running) return;
      } catch (err) {
        if (statusOf(err) === 404) return;
      }
      if (Date.now() > deadline) throw new AgentError(`the node agent command ${tag} did not end`, null);
      try {
        const k = await container.exec({ Cmd: [AGENT_NODE, AGENT_SCRIPT, 'kill', tag], AttachStdout: true, AttachStderr: true });
        const out = await k.start({});
        out.resume();
        await new Promise<void>((resolve) => {
          out.once('close', resolve);
          out.once('end', resolve);
          out.once('error', () => resolve());
        });
      } catch (err) {
        // The container itself is gone: so is the command.
        if (statusOf(err) === 404 || statusOf(err) === 409) return;
      }
      await sleep(100);
    }
  }
}
