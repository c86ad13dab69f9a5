/** What dockerode attaches to a failed request; its types declare none of it. */
interface ModemError {
  statusCode?: number;
  json?: unknown;
  message: string;
}

function asModemError(err: unknown): ModemError {
  if (err instanceof Error) {
    const e = err as Error & { statusCode?: unknown; json?: unknown };
    return { message: e.message, statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined, json: e.json };
  }
  return { message: String(err) };
}

/** The HTTP status the engine answered with, or undefined for a transport error. */
export function statusOf(err: unknown): number | undefined {
  return asModemError(err).statusCode;
}

/**
 * The engine's own message, without the "(HTTP code 404) no such container - " prefix
 * docker-modem puts in front of it (that prefix is a guess per endpoint and is often wrong,
 * e.g. "no such container" for a missing image).
 */
export function engineMessage(err: unknown): string {
  const e = asModemError(err);
  const j = e.json;
  if (typeof j === 'object' && j !== null && !Buffer.isBuffer(j) && 'message' in j && typeof j.message === 'string') {
    return j.message.trim();
  }
  if (Buffer.isBuffer(j) && j.length) return j.toString('utf8').trim();
  if (typeof j === 'string' && j.trim()) return j.trim();
  // Streamed endpoints (pull, build) leave json empty and only the message carries the cause.
  return e.message.replace(/^\(HTTP code \d+\) .*? - /, '').trim();
}

/** An engine failure with the engine's message and the HTTP status kept for callers. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }

  /**
   * The engine's message, after `what` when given. Operations the runner wraps in a named step
   * (create, copy in, start, wait, copy out, pull) leave `what` out: the step already says it.
   */
  static from(err: unknown, what?: string): EngineError {
    const msg = engineMessage(err);
    return new EngineError(what ? `${what}: ${msg}` : msg, statusOf(err), { cause: err });
  }
}
