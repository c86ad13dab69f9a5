/**
 * A tiny typed fetch wrapper for the console's JSON API. Every non-2xx answer becomes an
 * ApiRequestError carrying the HTTP status and, when the body is the API's error shape
 * (`{ error, message, fields? }`), its message and per-field errors, so forms can map them.
 */

import type { FieldError } from '@tc/contracts';

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

/** `path` is relative to /api/v1 (`/training-jobs`). Resolves with the parsed JSON body. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { query, body, headers, ...init } = options;
  const hasBody = body !== undefined;
  const res = await fetch(withQuery(`${API_BASE}${path}`, query), {
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
