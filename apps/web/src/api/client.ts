/**
 * A tiny typed fetch wrapper for the console's JSON API. Every non-2xx answer becomes an
 * ApiRequestError carrying the HTTP status and, when the body is the API's error shape
 * (`{ error, message, fields? }`), its message and per-field errors, so forms can map them.
 *
 * It also carries the session: the CSRF token of the signed-in session goes out on every
 * state-changing request, and a 401 from anything but the sign-in machinery itself is handed to
 * the app (which sends the user to the sign-in page).
 */

import { CSRF_HEADER, type FieldError, type Session } from '@tc/contracts';

/** Dot-joined path into the request body (`env.0.name`), '' for the request as a whole; the API's own shape. */
export type ApiFieldError = FieldError;

export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';

  constructor(
    readonly status: number,
    message: string,
    /** The API's stable machine code (`error`), when the body had one. */
    readonly code: string | undefined = undefined,
    readonly fields: ApiFieldError[] = [],
  ) {
    super(message);
  }
}

export const API_BASE = '/api/v1';

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions extends Omit<RequestInit, 'body'> {
  query?: Query;
  /** Serialised as JSON. */
  body?: unknown;
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toError(res: Response, body: unknown): ApiRequestError {
  const fallback = `${res.status} ${res.statusText || 'request failed'}`.trim();
  if (!isRecord(body)) {
    return new ApiRequestError(res.status, typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : fallback);
  }
  const message = typeof body.message === 'string' && body.message ? body.message : fallback;
  const code = typeof body.error === 'string' ? body.error : undefined;
  const fields = Array.isArray(body.fields)
    ? body.fields.filter((f): f is ApiFieldError => isRecord(f) && typeof f.path === 'string' && typeof f.message === 'string')
    : [];
  return new ApiRequestError(res.status, message, code, fields);
}

let csrfToken: string | null = null;
let unauthorizedHandler: (() => void) | null = null;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Their 401 means "wrong password" or "not signed in yet", which the sign-in pages handle themselves. */
const AUTH_PATHS = ['/auth/sign-in', '/auth/setup', '/auth/session', '/auth/sign-out'];

/** Keeps the CSRF token of a session the server answered with (sign-in, setup, GET /auth/session). */
export function rememberSession(session: Session): Session {
  csrfToken = session.csrfToken || null;
  return session;
}

/** Forgets the CSRF token (signed out, or the session ended). */
export function forgetSession(): void {
  csrfToken = null;
}

export function currentCsrfToken(): string | null {
  return csrfToken;
}

/** What to do when a request is refused for want of a session; returns the unregister function. */
export function onUnauthorized(handler: () => void): () => void {
  unauthorizedHandler = handler;
  return () => {
    if (unauthorizedHandler === handler) unauthorizedHandler = null;
  };
}

/**
 * fetch for a path relative to /api/v1, with the session's CSRF header on every change and the
 * 401 handling; for the few callers that stream (image pull and upload) instead of reading JSON.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers);
  if (!SAFE_METHODS.has(method) && csrfToken && !headers.has(CSRF_HEADER)) headers.set(CSRF_HEADER, csrfToken);
  const res = await fetch(`${API_BASE}${path}`, { ...init, headers });
  if (res.status === 401 && !AUTH_PATHS.some((p) => path === p || path.startsWith(`${p}?`))) {
    forgetSession();
    unauthorizedHandler?.();
  }
  return res;
}

/** `path` is relative to /api/v1 (`/training-jobs`). Resolves with the parsed JSON body. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { query, body, headers, ...init } = options;
  const hasBody = body !== undefined;
  const res = await apiFetch(withQuery(path, query), {
    ...init,
    headers: { accept: 'application/json', ...(hasBody ? { 'content-type': 'application/json' } : {}), ...headers },
    body: hasBody ? JSON.stringify(body) : undefined,
  });
  const parsed = await readBody(res);
  if (!res.ok) throw toError(res, parsed);
  return parsed as T;
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, 'body' | 'method'>) => apiRequest<T>(path, { ...options, method: 'GET' }),
  post: <T>(path: string, body?: unknown, options?: Omit<RequestOptions, 'body' | 'method'>) =>
    apiRequest<T>(path, { ...options, method: 'POST', body }),
  delete: <T>(path: string, options?: Omit<RequestOptions, 'body' | 'method'>) => apiRequest<T>(path, { ...options, method: 'DELETE' }),
};
