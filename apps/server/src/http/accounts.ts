import { normalizeIP } from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  ApiTokenList,
  ApiTokenParams,
  AuditLog,
  AuditQuery,
  ChangePasswordRequest,
  CreateApiTokenRequest,
  CreatedApiToken,
  CreateUserRequest,
  PasswordChanged,
  Session,
  SetupRequest,
  SetupState,
  SignInRequest,
  User,
  UserList,
  UserParams,
} from '@tc/contracts';
import type { AccountService, SignedIn } from '../accounts/account-service.js';
import { actorOf, SESSION_COOKIE } from './authenticate.js';

export interface AuthOptions {
  /** 'auto': Secure when the request came over HTTPS or to a loopback host (browsers accept it there). */
  cookieSecure: boolean | 'auto';
  signInPerMinute: number;
}

/** Sign-in, setup, sessions, API tokens, users and the audit log. */
export function accountRoutes(accounts: AccountService, opts: AuthOptions): FastifyPluginAsyncZod {
  const secureFor = (req: FastifyRequest) =>
    opts.cookieSecure === 'auto'
      ? req.protocol === 'https' || /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(req.host)
      : opts.cookieSecure;
  const startSession = (req: FastifyRequest, reply: FastifyReply, signedIn: SignedIn): Session => {
    // A session cookie (no Max-Age): the browser drops it on exit, the server ends it when idle.
    reply.setCookie(SESSION_COOKIE, signedIn.cookieValue, { path: '/', httpOnly: true, sameSite: 'strict', secure: secureFor(req) });
    return signedIn.session;
  };
  // Per username and client address: one address guessing at every account is held back account
  // by account, and one account being guessed at from one address does not lock its owner out
  // elsewhere. The key needs the body, so it is taken after parsing (preHandler). The address is
  // req.ip: X-Forwarded-For counts only from a proxy TRUST_PROXY names. normalizeIP folds an
  // IPv6 address to its /56, so rotating addresses within one allocation does not reset the count.
  const rateLimit = {
    max: opts.signInPerMinute,
    timeWindow: '1 minute',
    hook: 'preHandler' as const,
    keyGenerator: (req: FastifyRequest) => {
      const username = (req.body as { username?: unknown } | undefined)?.username;
      return `${normalizeIP(req.ip)} ${typeof username === 'string' ? username : ''}`;
    },
  };

  return async (app) => {
    const tags = ['accounts'];
    const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError };

    app.get(
      '/auth/setup',
      { schema: { tags, summary: 'Whether the console still waits for its first admin', response: { 200: SetupState } } },
      async () => ({ required: accounts.setupRequired() }),
    );
    app.post(
      '/auth/setup',
      {
        config: { rateLimit },
        schema: {
          tags,
          summary: 'Create the first admin with the setup code from the server log',
          body: SetupRequest,
          response: { 200: Session, ...errors, 429: ApiError },
        },
      },
      async (req, reply) => startSession(req, reply, await accounts.setup(req.body)),
    );
    app.post(
      '/auth/sign-in',
      {
        config: { rateLimit },
        schema: {
          tags,
          summary: 'Sign in: sets the session cookie; send csrfToken back as X-CSRF-Token',
          body: SignInRequest,
          response: { 200: Session, ...errors, 429: ApiError },
        },
      },
      async (req, reply) => startSession(req, reply, await accounts.signIn(req.body)),
    );
    app.post('/auth/sign-out', { schema: { tags, summary: 'End this session', response: { 204: z.null() } } }, async (req, reply) => {
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie) accounts.signOut(cookie);
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).send(null);
    });
    app.get(
      '/auth/session',
      { schema: { tags, summary: 'The signed-in user and the CSRF token of this session', response: { 200: Session, 401: ApiError } } },
      // What authenticated the request (a token wins over a cookie, as everywhere). With a token
      // there is no session, so no CSRF token is needed.
      async (req) =>
        req.session ?? { user: accounts.me(actorOf(req)), csrfToken: '', expiresAt: new Date(Date.now() + 3600_000).toISOString() },
    );
    app.post(
      '/auth/password',
      {
        schema: {
          tags,
          summary: 'Change your password: ends your other sessions, and your API tokens with revokeTokens',
          body: ChangePasswordRequest,
          response: { 200: PasswordChanged, ...errors },
        },
      },
      // The session that authenticated this request stays (a token request keeps none).
      async (req) => accounts.changePassword(actorOf(req), req.body, req.session ? req.cookies[SESSION_COOKIE] : undefined),
    );

    app.get('/auth/tokens', { schema: { tags, summary: 'Your API tokens', response: { 200: ApiTokenList } } }, async (req) =>
      accounts.tokens(actorOf(req)),
    );
    app.post(
      '/auth/tokens',
      {
        schema: {
          tags,
          summary: 'Create an API token for scripts; the token is in this answer only',
          body: CreateApiTokenRequest,
          response: { 201: CreatedApiToken, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send(accounts.createToken(actorOf(req), req.body)),
    );
    app.delete(
      '/auth/tokens/:id',
      { schema: { tags, summary: 'Revoke one of your API tokens', params: ApiTokenParams, response: { 204: z.null(), ...errors } } },
      async (req, reply) => {
        accounts.revokeToken(actorOf(req), req.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get('/users', { schema: { tags, summary: 'All users (admins only)', response: { 200: UserList, ...errors } } }, async (req) =>
      accounts.users(actorOf(req)),
    );
    app.post(
      '/users',
      { schema: { tags, summary: 'Create a user (admins only)', body: CreateUserRequest, response: { 201: User, ...errors } } },
      async (req, reply) => reply.status(201).send(await accounts.createUser(actorOf(req), req.body)),
    );
    app.delete(
      '/users/:username',
      {
        schema: {
          tags,
          summary: 'Delete a user and their sessions and tokens; what they made stays (admins only)',
          params: UserParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (req, reply) => {
        accounts.deleteUser(actorOf(req), req.params.username);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/audit-log',
      {
        schema: {
          tags,
          summary: 'Every state change and sign-in attempt, newest first (admins only)',
          querystring: AuditQuery,
          response: { 200: AuditLog, ...errors },
        },
      },
      async (req) => accounts.audit(actorOf(req), req.query),
    );
  };
}
