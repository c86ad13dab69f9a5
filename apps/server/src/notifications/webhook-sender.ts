/** The port the delivery worker posts through; the adapter below is Node's fetch. */
export interface WebhookSender {
  /** Resolves with the HTTP status whatever it is; rejects only when there was no answer. */
  post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number>;
}

export class FetchWebhookSender implements WebhookSender {
  async post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
    // A redirect would re-send a signed body somewhere the operator did not subscribe; a 3xx is a failure.
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
    // Only the status matters; cancelling frees the connection without reading a large answer.
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  }
}

/** One line for the attempt record: the cause's code where undici has one (ECONNREFUSED …). */
export function describeSendError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return typeof cause.message === 'string' ? `${cause.code}: ${cause.message}` : cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}
