import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CSRF_HEADER, type Session } from '@tc/contracts';
import type { Actor } from '../accounts/actor.js';
import { sameText, type AccountService } from '../accounts/account-service.js';
import type { AuditRepository } from '../accounts/audit-repository.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request; set for every /api route but health, sign-in and setup. */
    actor: Actor | null;
    /** The browser session that authenticated the request; null for a token (or none). */
    session: Session | null;
  }
}

export const SESSION_COOKIE = 'tc_session';

/** Routes open without signing in; everything else under /api needs a session or a token. */
const OPEN = new Set(['GET /api/health', 'POST /api/v1/auth/sign-in', 'GET /api/v1/auth/setup', 'POST /api/v1/auth/setup']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The actor of a request that passed authentication. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new UnauthorizedError('sign in first');
  return req.actor;
}

/**
 * Authentication for the whole app: a Bearer API token, or the session cookie plus the CSRF
 * header on every state-changing request (the cookie rides along on cross-site requests; a
 * header another site's page cannot set does not). Then the audit record of each change.
 */
export async function registerAuth(app: FastifyInstance, accounts: AccountService, audit: AuditRepository): Promise<void> {
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`too many sign-in attempts; try again in ${ctx.after}`), { statusCode: 429, code: 'rate_limited' }),
  });
  app.decorateRequest('actor', null);
  app.decorateRequest('session', null);

  app.addHook('onRequest', async (req) => {
    // The matched route decides, not the raw URL, so no spelling of a path reaches a handler unchecked.
    const route = req.routeOptions.url ?? req.url.split('?')[0]!;
    if (!route.startsWith('/api/') || OPEN.has(`${req.method} ${route}`)) return;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer (\S+)$/i.exec(auth);
      req.actor = m ? accounts.tokenUser(m[1]!) : null;
      if (!req.actor) throw new UnauthorizedError('the API token is not valid (revoked, or mistyped)');
      return;
    }
    const cookie = req.cookies[SESSION_COOKIE];
    const found = cookie ? accounts.session(cookie) : null;
    if (!found) throw new UnauthorizedError('sign in first (or send an API token as Authorization: Bearer)');
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameText(sent, found.session.csrfToken)) {
        throw new ForbiddenError(`missing or wrong ${CSRF_HEADER} header; reload the console`, 'csrf');
      }
    }
    req.actor = found.actor;
    req.session = found.session;
  });

  app.addHook('onResponse', async (req, reply) => {
    if (SAFE_METHODS.has(req.method) || !req.url.startsWith('/api/')) return;
    const path = req.url.split('?')[0]!;
    const body = req.body as { username?: unknown; name?: unknown } | undefined;
    const signingIn = path === '/api/v1/auth/sign-in' || path === '/api/v1/auth/setup';
    // Anonymous requests refused at the door changed nothing and are not worth a row each.
    if (!req.actor && !signingIn) return;
    const named = typeof body?.name === 'string' ? ` (name ${body.name.slice(0, 64)})` : '';
    const user = typeof body?.username === 'string' ? body.username.slice(0, 64) : null;
    const who = user !== null ? ` (user ${user})` : '';
    // A sign-in that worked is that user's act; one that failed is nobody's yet.
    const signedIn = signingIn && reply.statusCode < 400 ? user : null;
    audit.append({
      at: new Date().toISOString(),
      username: req.actor?.username ?? signedIn,
      action: `${req.method} ${req.routeOptions.url ?? path}`,
      target: `${path}${named}${who}`,
      status: reply.statusCode,
      ip: req.ip,
    });
  });
}
