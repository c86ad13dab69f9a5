import { StringDecoder } from 'node:string_decoder';
import WebSocket from 'ws';
import type { Connection } from './client.js';
import { CliError, EXIT, exitCodeForStatus, type ExitCode } from './errors.js';
import { jobPath, type JobRef } from './follow.js';
import type { Io } from './io.js';

/** The server's close codes (apps/server/src/terminal/terminal-sessions.ts, TerminalClose). */
const CLOSE = { exited: 1000, jobEnded: 4000, idle: 4001 } as const;

/** Ctrl-D: end of input on a terminal, sent when piped stdin ends. */
const EOT = Buffer.from([4]);

/**
 * `trainctl exec`: the job page's terminal from a terminal. A shell (or `cmd`) in the node, on a
 * TTY as the server always opens one: keys pass through raw when stdin is a terminal; piped
 * input is sent and then ended with Ctrl-D. Resolves with the remote command's exit code, as
 * `docker exec` does; a refusal or a lost session is a CliError with the usual codes.
 */
export async function execInNode(conn: Connection, job: JobRef, node: number, cmd: string[], io: Io): Promise<number> {
  const out = io.stdout as Io['stdout'] & {
    rows?: number;
    on?: (ev: 'resize', fn: () => void) => unknown;
    off?: (ev: 'resize', fn: () => void) => unknown;
  };
  const size = () => ({ cols: out.columns ?? 80, rows: out.rows ?? 24 });
  const q = new URLSearchParams({ cols: String(size().cols), rows: String(size().rows) });
  for (const a of cmd) q.append('cmd', a);
  const url = `${conn.url.replace(/^http/, 'ws')}/api/v1${jobPath(job)}/nodes/${node}/terminal?${q}`;
  const ws = new WebSocket(url, { headers: conn.token ? { authorization: `Bearer ${conn.token}` } : {} });

  const stdin = io.stdin;
  const raw = Boolean(stdin.isTTY && stdin.setRawMode);
  const decoder = new StringDecoder('utf8');
  let exit: number | null = null;
  const onResize = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', ...size() }));
  };
  const onInput = (chunk: Buffer | string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, { binary: true });
  };
  const onInputEnd = () => {
    if (!raw && ws.readyState === WebSocket.OPEN) ws.send(EOT, { binary: true });
  };

  try {
    return await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          req.destroy();
          let message = body.trim() || res.statusMessage || '';
          try {
            const parsed = JSON.parse(body) as { message?: unknown };
            if (typeof parsed.message === 'string') message = parsed.message;
          } catch {
            // Not the API's JSON (a proxy's page): the text is the best there is.
          }
          reject(new CliError(`exec: ${res.statusCode} ${message}`, exitCodeForStatus(res.statusCode ?? 500)));
        });
      });
      ws.on('error', (err) => reject(new CliError(`exec: cannot reach the console at ${conn.url}: ${err.message}`, EXIT.UNAVAILABLE)));
      ws.on('open', () => {
        if (raw) stdin.setRawMode!(true);
        stdin.on('data', onInput);
        stdin.on('end', onInputEnd);
        stdin.resume();
        out.on?.('resize', onResize);
      });
      ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) return void io.stdout.write(decoder.write(data));
        try {
          const control = JSON.parse(data.toString('utf8')) as { type?: unknown; code?: unknown };
          if (control.type === 'exit' && typeof control.code === 'number') exit = control.code;
        } catch {
          // A control message of a newer server: nothing for this client to do.
        }
      });
      ws.on('close', (code, reason) => {
        io.stdout.write(decoder.end());
        const why = reason.toString();
        if (code === CLOSE.exited) return resolve(exit ?? 0);
        if (code === CLOSE.jobEnded) return reject(new CliError(`exec: ${why || 'the job ended'}`, EXIT.JOB_STOPPED as ExitCode));
        if (code === CLOSE.idle) return reject(new CliError('exec: closed after being idle', EXIT.ERROR));
        reject(new CliError(`exec: the session ended: ${why || `code ${code}`}`, EXIT.UNAVAILABLE));
      });
    });
  } finally {
    stdin.off('data', onInput);
    stdin.off('end', onInputEnd);
    out.off?.('resize', onResize);
    if (raw) stdin.setRawMode!(false);
    stdin.pause();
    ws.terminate();
  }
}
