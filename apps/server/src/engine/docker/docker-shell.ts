import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { ContainerGoneError, EngineDeadlineError, type ShellOptions, type ShellSession } from '../container-engine.js';
import { EngineError, statusOf } from './errors.js';

/** DockerEngine's deadline wrapper: the request is aborted when the engine does not answer in time. */
export type EngineCall = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Marks every process of one shell session: children inherit the environment, so the session's
 * whole process tree can be found again (see KILL_SCRIPT).
 */
const MARKER = 'TC_TERMINAL_SESSION';

/**
 * The engine does not end an exec when its client goes away (the shell stays, with whatever it
 * started), and gives no in-container PID for one. So close() finds the session's processes by
 * their marker and ends them: SIGHUP, as a closed terminal would send, then SIGKILL for those
 * that ignore it. It runs as the session's own user: reading another user's /proc/PID/environ
 * needs CAP_SYS_PTRACE, which containers do not have, even as root.
 */
const KILL_SCRIPT = [
  'pids=""',
  'for p in /proc/[0-9]*; do',
  '  if tr "\\000" "\\n" < "$p/environ" 2>/dev/null | grep -qx "$1"; then pids="$pids ${p#/proc/}"; fi',
  'done',
  '[ -z "$pids" ] && exit 0',
  'kill -HUP $pids 2>/dev/null',
  'sleep 1',
  'kill -KILL $pids 2>/dev/null',
  'exit 0',
].join('\n');

/** docker exec with a TTY, as the ContainerEngine.shell port describes it. */
export async function openDockerShell(docker: Dockerode, containerId: string, opts: ShellOptions, call: EngineCall): Promise<ShellSession> {
  const container = docker.getContainer(containerId);
  const marker = `${MARKER}=${randomUUID()}`;
  let exec: Dockerode.Exec;
  try {
    exec = await call('opening a shell in the container', (abortSignal) =>
      container.exec({
        Cmd: opts.cmd,
        User: opts.user,
        // The container's own environment (the job's variables) is inherited; these come on top.
        Env: [...opts.env, marker],
        WorkingDir: opts.workingDir,
        Tty: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        abortSignal,
      } as Dockerode.ExecCreateOptions),
    );
  } catch (err) {
    throw shellError(err, containerId);
  }
  let stream: Duplex;
  try {
    stream = (await call('starting the shell', (abortSignal) =>
      exec.start({ hijack: true, stdin: true, Tty: true, abortSignal } as Dockerode.ExecStartOptions),
    )) as Duplex;
  } catch (err) {
    throw shellError(err, containerId);
  }

  let closed: Promise<void> | null = null;
  const session: ShellSession = {
    stream,
    resize: async (cols, rows) => {
      if (closed) return;
      try {
        await call('resizing the terminal', (abortSignal) => exec.resize({ w: cols, h: rows, abortSignal } as { w: number; h: number }));
      } catch (err) {
        // The process may have exited a moment ago; a resize of nothing is not worth an error.
        if (statusOf(err) === 404 || statusOf(err) === 409) return;
        throw err instanceof EngineDeadlineError ? err : EngineError.from(err, 'resizing the terminal failed');
      }
    },
    exitCode: async () => {
      try {
        const info = await call('reading the exit code', (abortSignal) => exec.inspect({ abortSignal } as object));
        return typeof info.ExitCode === 'number' && !info.Running ? info.ExitCode : null;
      } catch {
        return null;
      }
    },
    close: () => {
      closed ??= (async () => {
        stream.destroy();
        try {
          const killer = await call('ending the shell', (abortSignal) =>
            container.exec({
              Cmd: ['/bin/sh', '-c', KILL_SCRIPT, 'sh', marker],
              User: opts.user,
              AttachStdout: false,
              AttachStderr: false,
              abortSignal,
            } as Dockerode.ExecCreateOptions),
          );
          await call('ending the shell', (abortSignal) => killer.start({ Detach: true, abortSignal } as Dockerode.ExecStartOptions));
        } catch {
          // The container has exited or is gone: nothing of the session is left to end.
        }
      })();
      return closed;
    },
  };
  await session.resize(opts.cols, opts.rows).catch(() => undefined);
  return session;
}

function shellError(err: unknown, containerId: string): Error {
  if (err instanceof EngineDeadlineError) return err;
  const s = statusOf(err);
  if (s === 404) return new ContainerGoneError(containerId, { cause: err });
  return EngineError.from(err, 'opening a shell in the container failed');
}
