import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type Dockerode from 'dockerode';
import type { EngineNode } from '../container-engine.js';
import { AGENT_LABEL, AGENT_NODE, AGENT_REPOSITORY, AGENT_SCRIPT, ensureAgentImage } from '../docker/agent-image.js';
import { AGENT_CAPABILITIES, agentContainerName } from '../docker/docker-node-agent.js';
import { engineMessage, statusOf } from '../docker/errors.js';
import { readProgress } from '../docker/progress.js';
import { AGENT_NODE_ROOT, AgentError, checkWorkDir, type AgentCommand, type AgentMessage, type NodeAgent } from '../node-agent.js';

/**
 * The node agent on a Docker Swarm. The console reaches only the manager, which cannot exec into
 * other nodes' containers, so the agent runs as a global service (one task per node) on the
 * host's network and serves the same commands over HTTP (`agent.mjs serve`): the console POSTs a
 * command's JSON to `http://<node addr>:<port>/run/<command>` with its token and reads the
 * NDJSON answer. Each request runs in its own agent process, exactly as a `docker exec` would.
 *
 * Exposure: the port listens on every address of every node, over plain HTTP. The token guards
 * it, but the token and the presigned URLs travel in clear, so the agent port must be reachable
 * from the console only (a firewall rule or a private network). Two consoles sharing a swarm
 * need two ports (host networking: one port, one listener per node).
 *
 * The node root must be the same path on every node; a one-off global job makes it where it is
 * missing before the service starts (a swarm bind mount of a missing folder fails the task,
 * and API 1.41 has no CreateMountpoint).
 */

export const DEFAULT_AGENT_PORT = 7731;
/** The secret's file inside the agent's container. */
const TOKEN_FILE = 'tc-agent-token';
/** The spec the service runs, as a label: a new agent, token, port or folder is an update. */
const SPEC_LABEL = 'tc.node-agent.spec';
const CONSOLE_LABEL = 'tc.console';

/** Building and pushing the image (first use only), starting the tasks, and every node answering. */
const ENSURE_TIMEOUT_MS = 180_000;
/** Connecting and reading a command's response headers. */
const CONNECT_TIMEOUT_MS = 15_000;
/** The agent speaks at least every 200 ms while data moves and every minute otherwise. */
const SILENCE_TIMEOUT_MS = 300_000;
const HEALTH_TIMEOUT_MS = 3_000;
const STDERR_TAIL = 4096;

export interface SwarmNodeAgentOptions {
  consoleId: string;
  /** The folder for work folders, the same path on every node, e.g. /var/lib/training-console/node/<consoleId>. */
  nodeRoot: string;
  /** A registry every node pulls from, e.g. registry.example:5000 (the image is pushed there through the manager). */
  registry: string;
  /** The shared secret the agents require (the console keeps it; stored in the swarm as a secret). */
  token: string;
  /** The agents' port on every node (host network). */
  port?: number;
  /** The swarm's nodes as the engine lists them: a node's address is where its agent answers. */
  nodes: () => Promise<EngineNode[]>;
  /** Added to the service's labels (tests add theirs). */
  extraLabels?: Record<string, string>;
  ensureTimeoutMs?: number;
  connectTimeoutMs?: number;
  silenceTimeoutMs?: number;
}

const short = (consoleId: string): string => consoleId.replace(/[^A-Za-z0-9]/g, '').slice(0, 12);

export function swarmAgentServiceName(consoleId: string): string {
  return agentContainerName(consoleId);
}

function secretName(consoleId: string, token: string): string {
  return `tc-${short(consoleId)}-agent-token-${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Removes a console's agent service, its folder job if one was left, and its token secrets; gone already is fine. */
export async function removeSwarmAgent(manager: Dockerode, consoleId: string): Promise<void> {
  const filters = { label: [`${AGENT_LABEL}=1`, `${CONSOLE_LABEL}=${consoleId}`] };
  for (const s of await manager.listServices({ filters })) {
    try {
      await manager.getService(s.ID).remove();
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
  for (const s of (await manager.listSecrets({ filters })) as { ID: string }[]) {
    try {
      await manager.getSecret(s.ID).remove();
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}

function within<T>(ms: number, p: Promise<T>, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AgentError(what(), null)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function isMessage(v: unknown): v is AgentMessage {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** The node's agent could not be reached at all (no connection): nothing ran, worth one fresh ensure. */
class Unreachable extends Error {}

interface TaskInfo {
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; Timestamp?: string };
  Spec?: { ContainerSpec?: { Labels?: Record<string, string> } };
}

function get(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

export class SwarmNodeAgent implements NodeAgent {
  readonly serviceName: string;
  readonly port: number;
  private ready = false;
  private ensuring: Promise<void> | null = null;

  constructor(
    private readonly manager: Dockerode,
    private readonly opts: SwarmNodeAgentOptions,
  ) {
    this.serviceName = swarmAgentServiceName(opts.consoleId);
    this.port = opts.port ?? DEFAULT_AGENT_PORT;
    if (!opts.nodeRoot.startsWith('/')) throw new Error(`the node root must be an absolute path: ${opts.nodeRoot}`);
  }

  hostPath(workDir: string): string {
    return `${this.opts.nodeRoot.replace(/\/+$/, '')}/${checkWorkDir(workDir)}`;
  }

  agentPath(workDir: string): string {
    return `${AGENT_NODE_ROOT}/${checkWorkDir(workDir)}`;
  }

  private labels(): Record<string, string> {
    return { ...this.opts.extraLabels, [AGENT_LABEL]: '1', [CONSOLE_LABEL]: this.opts.consoleId };
  }

  ensure(): Promise<void> {
    if (this.ready) return Promise.resolve();
    const ms = this.opts.ensureTimeoutMs ?? ENSURE_TIMEOUT_MS;
    this.lastWait = '';
    // The loops below stop at the same deadline; this one also covers an engine call that hangs.
    const deadline = Date.now() + ms;
    this.ensuring ??= within(
      ms + 1_000,
      this.ensureNow(deadline),
      () => `making the node agents ready on the swarm took longer than ${ms / 1000} s${this.lastWait ? `: ${this.lastWait}` : ''}`,
    )
      .then(() => {
        this.ready = true;
      })
      .finally(() => {
        this.ensuring = null;
      });
    return this.ensuring;
  }

  private async ensureNow(deadline: number): Promise<void> {
    const waitMore = (): void => {
      if (Date.now() > deadline)
        throw new AgentError(`the node agents on the swarm did not come up in time${this.lastWait ? `: ${this.lastWait}` : ''}`, null);
    };
    const image = await ensureAgentImage(this.manager);
    const hash = image.tag.slice(image.tag.lastIndexOf(':') + 1);
    const repo = `${this.opts.registry}/${AGENT_REPOSITORY}`;
    const ref = `${repo}:${hash}`;
    const secret = secretName(this.opts.consoleId, this.opts.token);
    const spec = this.serviceSpec(ref, secret);
    const specHash = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);

    const current = await this.inspectService();
    if (current?.Spec?.Labels?.[SPEC_LABEL] === specHash && (await this.healthy(specHash)).ok) return;

    // Something to do: the image where every node can pull it, the token, the folders, the service.
    try {
      await this.manager.getImage(image.id).tag({ repo, tag: hash });
      const stream = (await this.manager.getImage(ref).push({ authconfig: {} })) as NodeJS.ReadableStream;
      await readProgress(stream);
    } catch (err) {
      throw new Error(`pushing the node agent's image to ${this.opts.registry} failed: ${engineMessage(err)}`, { cause: err });
    }
    const secretId = await this.ensureSecret(secret);
    await this.makeNodeRoot(ref, waitMore);
    const full = this.withSecret(spec, secret, secretId, specHash);
    for (let attempt = 0; ; attempt++) {
      const found = await this.inspectService();
      try {
        if (!found) await this.manager.createService(full);
        else if (found.Spec?.Labels?.[SPEC_LABEL] !== specHash)
          await this.manager.getService(found.ID).update({ ...full, version: found.Version?.Index ?? 0 });
        break;
      } catch (err) {
        // Another console process (or instance) got there first: look again.
        if (attempt < 5 && (statusOf(err) === 409 || /out of sequence/i.test(engineMessage(err)))) continue;
        throw new Error(`the swarm could not ${found ? 'update' : 'create'} the node agent service: ${engineMessage(err)}`, { cause: err });
      }
    }
    for (;;) {
      const h = await this.healthy(specHash);
      if (h.ok) break;
      this.lastWait = h.why;
      waitMore();
      await sleep(500);
    }
    await this.removeOldSecrets(secret);
  }

  /** Why the last wait for the agents went on, for the deadline's message. */
  private lastWait = '';

  private serviceSpec(ref: string, secret: string): Dockerode.CreateServiceOptions {
    return {
      Name: this.serviceName,
      Labels: this.labels(),
      Mode: { Global: {} },
      TaskTemplate: {
        ContainerSpec: {
          Image: ref,
          Command: [AGENT_NODE, AGENT_SCRIPT, 'serve'],
          Env: [`AGENT_PORT=${this.port}`, `AGENT_TOKEN_FILE=/run/secrets/${TOKEN_FILE}`],
          Labels: this.labels(),
          Init: true,
          ReadOnly: true,
          CapabilityDrop: ['ALL'],
          CapabilityAdd: AGENT_CAPABILITIES,
          Mounts: [
            { Type: 'bind', Source: this.opts.nodeRoot, Target: AGENT_NODE_ROOT },
            { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 16 * 1024 ** 2, Mode: 0o1777 } },
          ],
          Secrets: [{ SecretName: secret, File: { Name: TOKEN_FILE, UID: '0', GID: '0', Mode: 0o400 } }],
        },
        // The store may well be on a node's loopback, and the console reaches the agent at the node's address.
        Networks: [{ Target: 'host' }],
        // Each command is its own Node process (about a dozen threads, each a PID).
        Resources: { Limits: { MemoryBytes: 1024 ** 3, Pids: 1024 } },
        RestartPolicy: { Condition: 'on-failure', Delay: 2_000_000_000 },
      },
      // One port per node: the old task must be gone before the new one listens.
      UpdateConfig: { Parallelism: 0, Order: 'stop-first', FailureAction: 'continue' },
    };
  }

  private withSecret(
    spec: Dockerode.CreateServiceOptions,
    secret: string,
    secretId: string,
    specHash: string,
  ): Dockerode.CreateServiceOptions {
    const task = spec.TaskTemplate as Dockerode.ContainerTaskSpec;
    const labels = { ...this.labels(), [SPEC_LABEL]: specHash };
    return {
      ...spec,
      Labels: labels,
      TaskTemplate: {
        ...task,
        ContainerSpec: {
          ...task.ContainerSpec,
          Labels: labels,
          Secrets: [{ SecretID: secretId, SecretName: secret, File: { Name: TOKEN_FILE, UID: '0', GID: '0', Mode: 0o400 } }],
        },
      },
    };
  }

  private async inspectService(): Promise<(Dockerode.Service & { Spec?: Dockerode.ServiceSpec; Version?: { Index?: number } }) | null> {
    try {
      return (await this.manager.getService(this.serviceName).inspect()) as Dockerode.Service & {
        Spec?: Dockerode.ServiceSpec;
        Version?: { Index?: number };
      };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new Error(`the swarm could not inspect the node agent service: ${engineMessage(err)}`, { cause: err });
    }
  }

  private async ensureSecret(name: string): Promise<string> {
    const find = async (): Promise<string | undefined> => {
      const list = (await this.manager.listSecrets({ filters: { name: [name] } })) as { ID: string; Spec?: { Name?: string } }[];
      return list.find((s) => s.Spec?.Name === name)?.ID;
    };
    const found = await find();
    if (found) return found;
    try {
      const made = (await this.manager.createSecret({
        Name: name,
        Labels: this.labels(),
        Data: Buffer.from(this.opts.token).toString('base64'),
      })) as { id: string };
      return made.id;
    } catch (err) {
      if (statusOf(err) === 409) {
        const again = await find();
        if (again) return again;
      }
      throw new Error(`the swarm could not store the node agent's token: ${engineMessage(err)}`, { cause: err });
    }
  }

  /** Earlier tokens' secrets, once the service no longer uses them (best effort: one in use stays). */
  private async removeOldSecrets(keep: string): Promise<void> {
    try {
      const list = (await this.manager.listSecrets({
        filters: { label: [`${AGENT_LABEL}=1`, `${CONSOLE_LABEL}=${this.opts.consoleId}`] },
      })) as { ID: string; Spec?: { Name?: string } }[];
      for (const s of list) {
        if (s.Spec?.Name !== keep)
          await this.manager
            .getSecret(s.ID)
            .remove()
            .catch(() => undefined);
      }
    } catch {
      // Leftovers cost nothing but a listing line.
    }
  }

  /**
   * Makes the node root on every node where it is missing: a swarm bind mount of a missing folder
   * fails the task. A one-off global job of the agent's image mounts the root's top-level folder
   * (e.g. /var, which every host has) and makes the path below it.
   */
  private async makeNodeRoot(ref: string, waitMore: () => void): Promise<void> {
    const root = this.opts.nodeRoot.replace(/\/+$/, '');
    const top = `/${root.split('/')[1]}`;
    // A top-level node root (e.g. /data) cannot be made this way: the operator makes it.
    if (top === root) return;
    const name = `${this.serviceName}-mkdir-${randomBytes(3).toString('hex')}`;
    const created = (await this.manager.createService({
      Name: name,
      Labels: this.labels(),
      Mode: { GlobalJob: {} },
      TaskTemplate: {
        ContainerSpec: {
          Image: ref,
          Command: [AGENT_NODE, '-e', "require('fs').mkdirSync(process.argv[1], { recursive: true, mode: 0o711 })", `/host${root}`],
          Labels: this.labels(),
          ReadOnly: true,
          CapabilityDrop: ['ALL'],
          Mounts: [{ Type: 'bind', Source: top, Target: `/host${top}` }],
        },
        Networks: [],
        RestartPolicy: { Condition: 'none' },
      },
    })) as Dockerode.Service;
    try {
      for (;;) {
        const ready = (await this.opts.nodes()).filter((n) => n.ready);
        const tasks = (await this.manager.listTasks({ filters: { service: [name] } })) as TaskInfo[];
        const failed = tasks.find((t) => ['failed', 'rejected'].includes(t.Status?.State ?? ''));
        if (failed) {
          const host = (await this.opts.nodes()).find((n) => n.id === failed.NodeID)?.hostname ?? failed.NodeID;
          throw new Error(`making the node folder ${root} on ${host} failed: ${failed.Status?.Err ?? failed.Status?.State}`);
        }
        const done = new Set(tasks.filter((t) => t.Status?.State === 'complete').map((t) => t.NodeID));
        if (ready.every((n) => done.has(n.id))) return;
        this.lastWait = `making the node folder ${root}: ${ready
          .filter((n) => !done.has(n.id))
          .map((n) => n.hostname)
          .join(', ')} not done yet`;
        waitMore();
        await sleep(300);
      }
    } finally {
      await this.manager
        .getService(created.id)
        .remove()
        .catch(() => undefined);
    }
  }

  /** Every ready node runs a task of this spec and its agent answers /health. */
  private async healthy(specHash: string): Promise<{ ok: true } | { ok: false; why: string }> {
    const ready = (await this.opts.nodes()).filter((n) => n.ready);
    const tasks = (await this.manager.listTasks({ filters: { service: [this.serviceName] } })) as TaskInfo[];
    const problems: string[] = [];
    await Promise.all(
      ready.map(async (n) => {
        const mine = tasks.filter((t) => t.NodeID === n.id && t.Spec?.ContainerSpec?.Labels?.[SPEC_LABEL] === specHash);
        if (!mine.some((t) => t.DesiredState === 'running' && t.Status?.State === 'running')) {
          const last = mine
            .filter((t) => t.Status?.Err)
            .sort((a, b) => (a.Status?.Timestamp ?? '').localeCompare(b.Status?.Timestamp ?? ''))
            .at(-1);
          problems.push(`${n.hostname}: no agent task running${last ? ` (last error: ${last.Status?.Err})` : ''}`);
          return;
        }
        const status = await get(`http://${n.addr}:${this.port}/health`, HEALTH_TIMEOUT_MS);
        if (status !== 200) problems.push(`${n.hostname} (${n.addr}:${this.port}): ${status ? `HTTP ${status}` : 'no answer'} on /health`);
      }),
    );
    return problems.length ? { ok: false, why: problems.join('; ') } : { ok: true };
  }

  async run(cmd: AgentCommand, onMessage: (m: AgentMessage) => void, signal?: AbortSignal, node?: string): Promise<void> {
    signal?.throwIfAborted();
    if (!node) throw new AgentError(`a node agent command on a swarm needs the node it runs on (${cmd.command} was given none)`, null);
    await this.ensure();
    let target = await this.nodeOf(node);
    try {
      return await this.post(target, cmd, onMessage, signal);
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      // Its task may be restarting, or the service gone: one fresh ensure, then once more.
      this.ready = false;
      try {
        await this.ensure();
      } catch {
        // The node's own answer below says more about it than the swarm-wide wait.
      }
      signal?.throwIfAborted();
      target = await this.nodeOf(node);
      try {
        return await this.post(target, cmd, onMessage, signal);
      } catch (again) {
        if (again instanceof Unreachable)
          throw new AgentError(`the node agent on host ${target.hostname} (${target.addr}) is unreachable: ${again.message}`, null, {
            cause: again,
          });
        throw again;
      }
    }
  }

  private async nodeOf(id: string): Promise<EngineNode> {
    const n = (await this.opts.nodes()).find((x) => x.id === id);
    if (!n) throw new AgentError(`the swarm has no node ${id}: its node agent cannot be reached`, null);
    if (!n.addr || n.addr === '0.0.0.0')
      throw new AgentError(`the swarm reports no address for host ${n.hostname}: its node agent cannot be reached`, null);
    return n;
  }

  private post(n: EngineNode, cmd: AgentCommand, onMessage: (m: AgentMessage) => void, signal?: AbortSignal): Promise<void> {
    const where = `host ${n.hostname} (${n.addr})`;
    const body = Buffer.from(JSON.stringify(cmd.input));
    const connectMs = this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    const silenceMs = this.opts.silenceTimeoutMs ?? SILENCE_TIMEOUT_MS;

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let connected = false;
      let ended = false;
      let info: Extract<AgentMessage, { type: 'error' }> | null = null;
      let stderr = '';
      let lastHeard = Date.now();
      let silence: NodeJS.Timeout | null = null;

      const req = http.request({
        host: n.addr,
        port: this.port,
        method: 'POST',
        path: `/run/${cmd.command}`,
        agent: false,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          'content-type': 'application/json',
          'content-length': String(body.length),
        },
      });
      const headers = setTimeout(() => {
        const e = connected
          ? new AgentError(`the node agent on ${where} did not answer within ${connectMs / 1000} s`, null)
          : new Unreachable(`no connection to port ${this.port} within ${connectMs / 1000} s`);
        fail(e);
      }, connectMs);

      const cleanup = (): void => {
        clearTimeout(headers);
        if (silence) clearInterval(silence);
        signal?.removeEventListener('abort', onAbort);
      };
      /** Ends the request (the agent kills the command's process when its client goes) and rejects. */
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        req.destroy();
        reject(err);
      };
      const onAbort = (): void => fail(signal?.reason ?? new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });

      req.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        const what = err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
        fail(
          connected
            ? new AgentError(`the connection to the node agent on ${where} broke: ${what}`, null, { cause: err })
            : new Unreachable(what),
        );
      });

      req.on('response', (res) => {
        clearTimeout(headers);
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 500).trim();
            const why = res.statusCode === 401 ? "it refused the console's token" : `HTTP ${res.statusCode}`;
            fail(new AgentError(`the node agent on ${where} did not run ${cmd.command}: ${why}${text ? ` (${text})` : ''}`, null));
          });
          res.on('error', () => fail(new AgentError(`the node agent on ${where} answered HTTP ${res.statusCode}`, null)));
          return;
        }
        silence = setInterval(
          () => {
            if (Date.now() - lastHeard >= silenceMs)
              fail(new AgentError(`the node agent on ${where} stopped answering (nothing for ${silenceMs / 1000} s)`, null));
          },
          Math.min(5_000, silenceMs),
        );

        let rest: Buffer = Buffer.alloc(0);
        const line = (raw: Buffer): void => {
          if (settled) return;
          const text = raw.toString('utf8').trim();
          if (!text) return;
          let m: unknown;
          try {
            m = JSON.parse(text);
          } catch {
            m = null;
          }
          if (!isMessage(m)) {
            stderr = `${stderr}${text}\n`.slice(-STDERR_TAIL);
            return;
          }
          if (m.type === 'error') info = m;
          if (m.type === 'end') ended = true;
          try {
            onMessage(m);
          } catch (err) {
            // The caller cannot take the rest: the command stops here.
            fail(err);
          }
        };
        res.on('data', (chunk: Buffer) => {
          lastHeard = Date.now();
          let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
          for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10)) {
            line(buf.subarray(0, i));
            buf = buf.subarray(i + 1);
          }
          rest = buf;
        });
        res.on('end', () => {
          line(rest);
          if (settled) return;
          settled = true;
          cleanup();
          const exit = res.trailers['x-agent-exit'];
          const tail = stderr.trim();
          if (info) reject(new AgentError(info.message, info));
          else if (ended && (exit === undefined || exit === '0')) resolve();
          else if (exit === '0' || exit === undefined)
            reject(new AgentError(`the node agent on ${where} ended without finishing${tail ? `: ${tail}` : ''}`, null));
          else
            reject(
              new AgentError(
                `the node agent on ${where} exited with ${/^\d+$/.test(exit) ? `code ${exit}` : exit}${tail ? `: ${tail}` : ''}`,
                null,
              ),
            );
        });
        res.on('aborted', () => fail(new AgentError(`the connection to the node agent on ${where} broke`, null)));
        res.on('error', (err) =>
          fail(new AgentError(`the connection to the node agent on ${where} broke: ${err.message}`, null, { cause: err })),
        );
      });

      req.end(body);
    });
  }
}
