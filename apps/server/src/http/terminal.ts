import fastifyWebsocket from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { JobParams } from '@tc/contracts';
import { ForbiddenError } from '../errors.js';
import { actorOf } from './authenticate.js';
import { TERMINAL_LIMITS, TerminalClose, type TerminalSessions, type TerminalTarget } from '../terminal/terminal-sessions.js';

const TerminalParams = JobParams.extend({ index: z.coerce.number().int().min(0).max(9999) });
const TerminalQuery = z.object({
  cols: z.coerce.number().int().min(1).max(TERMINAL_LIMITS.cols).default(80),
  rows: z.coerce.number().int().min(1).max(TERMINAL_LIMITS.rows).default(24),
  // A command to run instead of the shell, one `cmd` per argument (trainctl exec … -- cmd args).
  cmd: z
    .union([z.string().max(4096), z.array(z.string().max(4096)).max(64)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
});

/** One frame may carry at most this much input (a large paste is split by the client). */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Whether a WebSocket handshake comes from the console's own pages. Browsers send the cookie on
 * a cross-site WebSocket too, and the CSRF header cannot ride on one; the Origin header, which a
 * page cannot forge, has to name this console (its PUBLIC_URL, or the host it was reached at).
 * No Origin at all is not a browser (a script with a token, the CLI), so nothing to hijack.
 */
export function sameOrigin(origin: string | undefined, host: string | undefined, publicUrl: string): boolean {
  if (origin === undefined) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed frame, a file: page) and anything else that is not an origin
  }
  if (o.origin === new URL(publicUrl).origin) return true;
  if (!host) return false;
  try {
    // Normalised the same way, so "host:80" matches "http://host".
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}

/** The job page's terminal: a shell into a running node over a WebSocket (see docs/SECURITY.md). */
export function terminalRoutes(terminals: TerminalSessions, publicUrl: string): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(fastifyWebsocket, {
      options: { maxPayload: MAX_FRAME_BYTES },
      // Ours first, so each session is audited and its shell ended; then anything left.
      preClose: async () => {
        await terminals.closeAll();
        for (const client of app.websocketServer.clients) client.close(TerminalClose.shutdown);
      },
    });
    // The plugin closes a refused handshake's socket only if its own onRequest hook ran, and the
    // app's authentication runs before it: a 401 would leave the socket open and keep the server
    // from closing. A handshake that succeeded was hijacked and never gets here.
    app.addHook('onResponse', async (req) => {
      if (req.headers.upgrade?.toLowerCase() === 'websocket') req.raw.socket.destroy();
    });
    // What the checks found before the upgrade, for the handler after it.
    const targets = new WeakMap<FastifyRequest, TerminalTarget>();

    app.get(
      '/training-jobs/:name/versions/:version/nodes/:index/terminal',
      {
        websocket: true,
        schema: {
          tags: ['training jobs'],
          summary: 'An interactive shell in a running node (WebSocket)',
          params: TerminalParams,
          querystring: TerminalQuery,
        },
        // Before the upgrade: a refusal is a plain HTTP answer (401, 403, 404, 409, 429).
        preHandler: async (req) => {
          const actor = actorOf(req);
          if (!sameOrigin(req.headers.origin, req.host, publicUrl)) {
            throw new ForbiddenError('a terminal can only be opened from the console itself', 'cross_origin');
          }
          const p = req.params as z.infer<typeof TerminalParams>;
          targets.set(req, terminals.target(actor, p.name, p.version, p.index));
        },
      },
      async (socket, req) => {
        const target = targets.get(req);
        if (!target) return socket.close(TerminalClose.error, 'not checked');
        const q = req.query as z.infer<typeof TerminalQuery>;
        await terminals.attach(actorOf(req), target, socket, req.ip, { cols: q.cols, rows: q.rows }, q.cmd);
      },
    );
  };
}
