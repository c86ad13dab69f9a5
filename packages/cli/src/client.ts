import { ApiError as ApiErrorSchema } from '@tc/contracts';
import { CliError, EXIT, exitCodeForStatus } from './errors.js';
import { readLogin } from './config.js';

export interface Connection {
  url: string;
  token: string | undefined;
}

/**
 * Flags win over the environment, which wins over the saved login. The saved token is only sent
 * to the address it was saved for: `--url` pointing elsewhere must not leak it to another host.
 */
export function resolveConnection(opts: { url?: string; token?: string }, env: NodeJS.ProcessEnv): Connection {
  const saved = readLogin(env);
  const url = normalizeUrl(opts.url ?? env.TRAINCTL_URL ?? saved?.url ?? '');
  if (!url) throw new CliError('no console address: run `trainctl login --url http://host:8080`, or pass --url', EXIT.AUTH);
  const token = opts.token ?? env.TRAINCTL_TOKEN ?? (saved && normalizeUrl(saved.url) === url ? saved.token : undefined);
  return { url, token: token || undefined };
}

export function normalizeUrl(url: string): string {
  if (!url) return '';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`--url: ${url} is not a URL (e.g. http://127.0.0.1:8080)`, EXIT.USAGE);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new CliError(`--url: ${url} must start with http:// or https://`, EXIT.USAGE);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/** The console's JSON API with the token; every failure becomes a CliError with the API's message and fields. */
export class Api {
  constructor(readonly conn: Connection) {}

  async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.request(method, path, body, headers);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** The raw answer of a GET, for streamed bodies; non-2xx is already an error. */
  async download(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  private async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.conn.token) h.authorization = `Bearer ${this.conn.token}`;
    // No content-type without a body: Fastify answers 400 to an empty JSON body.
    if (body !== undefined) h['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.conn.url}/api/v1${path}`, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the console at ${this.conn.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        EXIT.UNAVAILABLE,
      );
    }
    if (res.ok) return res;
    throw await apiFailure(res, method, path, Boolean(this.conn.token));
  }
}

async function apiFailure(res: Response, method: string, path: string, hadToken: boolean): Promise<CliError> {
  const text = await res.text();
  let message = text.trim() || res.statusText;
  let fields: { path: string; message: string }[] = [];
  try {
    const parsed = ApiErrorSchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      message = parsed.data.message;
      fields = parsed.data.fields ?? [];
    }
  } catch {
    // Not JSON (a proxy's error page): the text itself is the best message there is.
  }
  let out = `${method} ${path}: ${res.status} ${message}`;
  const named = fields.filter((f) => f.path !== '');
  // The message already lists the fields for most errors; list them one per line for long ones.
  if (named.length > 1) out += '\n' + named.map((f) => `  ${f.path}: ${f.message}`).join('\n');
  if (res.status === 401)
    out += hadToken ? '\n(the token was refused: run `trainctl login` again)' : '\n(no token: run `trainctl login`, or pass --token)';
  return new CliError(out, exitCodeForStatus(res.status));
}
