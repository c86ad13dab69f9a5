import type { FastifyInstance, InjectOptions } from 'fastify';
import type { CreatedApiToken, Session } from '@tc/contracts';

/** The first admin every test console starts with (ADMIN_PASSWORD). */
export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password' };

export interface SignedInClient {
  session: Session;
  /** The Cookie header of the session. */
  cookie: string;
}

/** Signs in through the real routes, as the browser does. */
export async function signIn(app: FastifyInstance, username: string, password: string): Promise<SignedInClient> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`sign-in as ${username}: ${res.statusCode} ${res.body}`);
  const set = res.cookies.find((c) => c.name === 'tc_session');
  if (!set) throw new Error('sign-in set no session cookie');
  return { session: res.json<Session>(), cookie: `tc_session=${set.value}` };
}

/** An API token of the user, made through the routes with their session and CSRF token. */
export async function apiToken(app: FastifyInstance, username: string, password: string): Promise<string> {
  const { session, cookie } = await signIn(app, username, password);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/tokens',
    headers: { cookie, 'x-csrf-token': session.csrfToken },
    payload: { name: 'tests' },
  });
  if (res.statusCode !== 201) throw new Error(`token for ${username}: ${res.statusCode} ${res.body}`);
  return res.json<CreatedApiToken>().token;
}

/** A user made by the admin token, and their own token. */
export async function createUser(
  app: FastifyInstance,
  adminToken: string,
  username: string,
  role: 'user' | 'admin' = 'user',
): Promise<string> {
  const password = `${username}-password-1`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: { authorization: `Bearer ${adminToken}` },
    payload: { username, password, role },
  });
  if (res.statusCode !== 201) throw new Error(`create user ${username}: ${res.statusCode} ${res.body}`);
  return apiToken(app, username, password);
}

/**
 * Makes `app.inject` send the token unless the request sets its own Authorization (or a Cookie,
 * for session tests), so tests written before accounts read as they did; returns the original
 * inject for anonymous requests.
 */
export function injectWithToken(app: FastifyInstance, token: string): FastifyInstance['inject'] {
  const raw = app.inject.bind(app) as (o: InjectOptions) => ReturnType<FastifyInstance['inject']>;
  const authed = (opts: InjectOptions | string) => {
    const o: InjectOptions = typeof opts === 'string' ? { url: opts } : opts;
    const headers = { ...(o.headers ?? {}) };
    if (!('authorization' in headers) && !('cookie' in headers)) headers.authorization = `Bearer ${token}`;
    return raw({ ...o, headers });
  };
  app.inject = authed as FastifyInstance['inject'];
  return raw as FastifyInstance['inject'];
}

/**
 * One JSON call with an API token to a server running as its own process (the recovery test, the
 * bench); a status that is not 2xx throws with the answer's text.
 */
export async function apiOverHttp<T>(base: string, token: string, method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** apiToken over real HTTP, for a server running as its own process. */
export async function apiTokenOverHttp(base: string, username: string, password: string): Promise<string> {
  const signIn = await fetch(`${base}/api/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!signIn.ok) throw new Error(`sign-in as ${username}: ${signIn.status} ${await signIn.text()}`);
  const session = (await signIn.json()) as Session;
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const res = await fetch(`${base}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': session.csrfToken },
    body: JSON.stringify({ name: 'tests' }),
  });
  if (res.status !== 201) throw new Error(`token for ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as CreatedApiToken).token;
}
