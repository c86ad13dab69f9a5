import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, RawData } from 'ws';
import type { ContainerEngine, ShellSession } from '../engine/container-engine.js';
import type { JobRepository, JobTransition } from '../jobs/job-repository.js';
import type { AuditRepository } from '../accounts/audit-repository.js';
import type { JobRecord } from '../jobs/job.js';
import { canAccess, type Actor } from '../accounts/actor.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { parseVersion } from '../jobs/version.js';

/** The user every job runs as; the terminal is that user too, never root. */
export const TERMINAL_USER = '1101:1101';
/** Where the job's code and outputs are. */
const WORK_DIR = '/home/work';

/**
 * WebSocket close codes the console sends (4000–4999 are the application's own). The reason
 * text says the same in words.
 */
export const TerminalClose = {
  /** The shell exited (the user typed `exit`). */
  exited: 1000,
  /** The server is shutting down. */
  shutdown: 1001,
  /** Opening the shell failed, or the engine failed during the session. */
  error: 1011,
  /** The job left Running (stopped, finished, failed). */
  jobEnded: 4000,
  /** No input for TERMINAL_IDLE_MINUTES. */
  idle: 4001,
} as const;

/**
 * Client → server text frames (binary frames are the terminal's input, byte for byte):
 * `{"type":"resize","cols":120,"rows":40}`, or `{"type":"input","data":"ls\r"}` for clients that
 * can only send text. Server → client: binary frames are the terminal's output; when the process
 * exits by itself a text frame `{"type":"exit","code":0}` (null when unknown) comes first; a close
 * frame with one of TerminalClose's codes ends it.
 */
export type TerminalControl = { type: 'resize'; cols: number; rows: number } | { type: 'input'; data: string };

/** 429: the user has the most terminals open already (the error handler maps statusCode). */
export class TooManyTerminalsError extends Error {
  readonly statusCode = 429;
  readonly code = 'too_many_terminals';
}

export interface TerminalTarget {
  job: JobRecord;
  node: number;
  containerId: string;
}

export interface TerminalSessionsDeps {
  jobs: Pick<JobRepository, 'get' | 'nodes'>;
  engine: Pick<ContainerEngine, 'shell' | 'multiHost'>;
  audit: Pick<AuditRepository, 'append'>;
  /** A terminal without input for this long is closed. */
  idleMs: number;
  /** Terminals one user may have open at once. */
  perUser: number;
  log: FastifyBaseLogger;
}

interface OpenTerminal {
  actor: Actor;
  target: TerminalTarget;
  ip: string;
  openedAt: number;
  socket: WebSocket;
  shell: ShellSession | null;
  idle: NodeJS.Timeout | undefined;
  /** A command of the caller's rather than the interactive shell. */
  command: boolean;
  exiting: boolean;
  ended: boolean;
}

const MAX_COLS = 1000;
const MAX_ROWS = 1000;

/**
 * Interactive shells into running job nodes over WebSockets: who may open one, the audit
 * record of each (never what is typed), and their end with the job, on idle, or on shutdown.
 */
export class TerminalSessions {
  private readonly open = new Set<OpenTerminal>();

  constructor(private readonly d: TerminalSessionsDeps) {}

  /**
   * Whether the engine can open shells at all. Not on a multi-host engine (swarm): its manager
   * cannot exec into containers on the other hosts, so a shell there needs a path of its own.
   */
  get available(): boolean {
    return typeof this.d.engine.shell === 'function' && !this.d.engine.multiHost;
  }

  /**
   * The node a terminal may be opened on: the actor's own job (or any, for an admin; another
   * user's job is as absent as one that never existed), Running, with the node's container up.
   * Checked before the upgrade, so a refusal is a plain HTTP answer.
   */
  target(actor: Actor, name: string, version: string, node: number): TerminalTarget {
    const n = parseVersion(version);
    const job = n === null ? null : this.d.jobs.get(name, n);
    if (!job || !canAccess(actor, job.ownerId)) throw new NotFoundError(`training job ${name} ${version} does not exist`);
    const row = this.d.jobs.nodes(job.id).find((r) => r.index === node);
    if (!row) throw new NotFoundError(`training job ${name} ${version} has no node ${node}`);
    if (!this.available) {
      throw new ConflictError(
        this.d.engine.multiHost
          ? 'a terminal is not available on a Docker Swarm (ENGINE=swarm): the manager cannot open a shell in a container on another host'
          : 'a terminal is not available on this engine',
      );
    }
    if (job.status !== 'Running' || row.state !== 'running' || !row.containerId) {
      throw new ConflictError(`node ${node} of ${name} ${version} is not running (job ${job.status}, node ${row.state})`);
    }
    if (this.count(actor.userId) >= this.d.perUser) {
      throw new TooManyTerminalsError(`at most ${this.d.perUser} terminals may be open at once; close one first`);
    }
    return { job, node, containerId: row.containerId };
  }

  /** Serves the upgraded socket: opens the shell and pipes it both ways until one side ends. */
  async attach(
    actor: Actor,
    target: TerminalTarget,
    socket: WebSocket,
    ip: string,
    size: { cols: number; rows: number },
    command?: string[],
  ): Promise<void> {
    const t: OpenTerminal = {
      actor,
      target,
      ip,
      openedAt: Date.now(),
      socket,
      shell: null,
      idle: undefined,
      command: Boolean(command?.length),
      exiting: false,
      ended: false,
    };
    this.open.add(t);
    // Input that arrives while the shell opens waits for it, in order.
    const early: Buffer[] = [];
    socket.on('message', (data, isBinary) => this.onMessage(t, data, isBinary, early));
    socket.on('close', () => void this.end(t, null));
    this.touch(t);
    // Whether a command ran, never which: like keystrokes, it may carry a secret.
    this.record(t, 'terminal.open', 101, t.command ? ' (a command)' : '');
    try {
      if (t.ended) return;
      const shell = await this.d.engine.shell!(target.containerId, {
        user: TERMINAL_USER,
        // The node's own environment (RANK, the job's variables …) is inherited from the container.
        env: ['TERM=xterm-256color'],
        cols: size.cols,
        rows: size.rows,
        cmd: command?.length ? command : ['/bin/sh'],
        workingDir: WORK_DIR,
      });
      t.shell = shell;
      if (t.ended) return void shell.close();
      shell.stream.on('data', (chunk: Buffer) => {
        if (socket.readyState === socket.OPEN) socket.send(chunk, { binary: true });
      });
      shell.stream.once('end', () => void this.exited(t, shell));
      shell.stream.once('close', () => void this.exited(t, shell));
      shell.stream.on('error', (err) => {
        this.d.log.warn({ err }, 'terminal stream failed');
        void this.end(t, { code: TerminalClose.error, reason: 'the connection to the engine failed' });
      });
      for (const b of early.splice(0)) shell.stream.write(b);
    } catch (err) {
      // Closed while it opened (the client left, the job stopped): nothing went wrong.
      if (t.ended) return;
      this.d.log.warn({ err }, 'opening a terminal failed');
      const msg = err instanceof Error ? err.message : String(err);
      await this.end(t, { code: TerminalClose.error, reason: `could not open a shell: ${msg}` });
    }
  }

  /** The process ended by itself: its exit code goes to the client (a command's status), then the close. */
  private async exited(t: OpenTerminal, shell: ShellSession): Promise<void> {
    if (t.ended || t.exiting) return;
    t.exiting = true;
    const code = await shell.exitCode();
    if (t.socket.readyState === t.socket.OPEN) t.socket.send(JSON.stringify({ type: 'exit', code }));
    await this.end(t, { code: TerminalClose.exited, reason: t.command ? 'the command exited' : 'the shell exited' });
  }

  /** The job left Running: its terminals close with it (the runner stops the containers next). */
  onTransition(tr: JobTransition): void {
    if (tr.to === 'Running') return;
    // Listeners run inside the transition's transaction: the audit rows of the closes are written after it.
    queueMicrotask(() => {
      for (const t of this.open) {
        if (t.target.job.id === tr.job.id) void this.end(t, { code: TerminalClose.jobEnded, reason: `the job is ${tr.to}` });
      }
    });
  }

  /** Ends every terminal (server shutdown); resolves once their shells are ended. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((t) => this.end(t, { code: TerminalClose.shutdown, reason: 'the console is shutting down' })));
  }

  private count(userId: number): number {
    let n = 0;
    for (const t of this.open) if (t.actor.userId === userId) n++;
    return n;
  }

  private onMessage(t: OpenTerminal, data: RawData, isBinary: boolean, early: Buffer[]): void {
    if (t.ended) return;
    this.touch(t);
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) return this.input(t, bytes, early);
    const control = parseControl(bytes.toString('utf8'));
    if (!control) return;
    if (control.type === 'input') return this.input(t, Buffer.from(control.data, 'utf8'), early);
    t.shell?.resize(control.cols, control.rows).catch((err: unknown) => this.d.log.warn({ err }, 'terminal resize failed'));
  }

  private input(t: OpenTerminal, bytes: Buffer, early: Buffer[]): void {
    if (t.shell) t.shell.stream.write(bytes);
    else early.push(bytes);
  }

  /** Input (keys, resize) restarts the idle clock; output alone does not, so a forgotten tab closes. */
  private touch(t: OpenTerminal): void {
    clearTimeout(t.idle);
    t.idle = setTimeout(() => void this.end(t, { code: TerminalClose.idle, reason: 'closed after being idle' }), this.d.idleMs);
    t.idle.unref();
  }

  private async end(t: OpenTerminal, close: { code: number; reason: string } | null): Promise<void> {
    if (t.ended) return;
    t.ended = true;
    clearTimeout(t.idle);
    this.open.delete(t);
    const why = close?.reason ?? 'closed by the client';
    if (close && (t.socket.readyState === t.socket.OPEN || t.socket.readyState === t.socket.CONNECTING)) {
      // A close reason may be at most 123 bytes.
      t.socket.close(close.code, Buffer.from(close.reason).subarray(0, 123).toString());
    }
    const seconds = Math.round((Date.now() - t.openedAt) / 1000);
    this.record(t, 'terminal.close', close?.code ?? 1000, `, ${seconds} s, ${why}`);
    await t.shell?.close();
  }

  private record(t: OpenTerminal, action: string, status: number, detail: string): void {
    const { job, node } = t.target;
    this.d.audit.append({
      at: new Date().toISOString(),
      username: t.actor.username,
      action,
      target: `training job ${job.name} ${job.version} node ${node}${detail}`,
      status,
      ip: t.ip,
    });
  }
}

/** A control frame, or null for anything else (ignored: a client of a newer protocol must not break the session). */
export function parseControl(text: string): TerminalControl | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.type === 'input' && typeof o.data === 'string') return { type: 'input', data: o.data };
  if (o.type === 'resize') {
    const cols = size(o.cols, MAX_COLS);
    const rows = size(o.rows, MAX_ROWS);
    return cols && rows ? { type: 'resize', cols, rows } : null;
  }
  return null;
}

/** A terminal dimension in 1..max, or null. */
export function size(v: unknown, max: number): number | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max ? n : null;
}

export const TERMINAL_LIMITS = { cols: MAX_COLS, rows: MAX_ROWS };
