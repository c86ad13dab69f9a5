import http from 'node:http';
import https from 'node:https';
import { InternalAddressError, REFUSED_INTERNAL, type WebhookAddressPolicy } from './address-policy.js';

/** The port the delivery worker posts through; the adapter below is Node's http/https. */
export interface WebhookSender {
  /** Resolves with the HTTP status whatever it is; rejects only when there was no answer. */
  post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number>;
}

/**
 * Posts with node:http rather than fetch so the connection goes through the policy's `lookup`:
 * the addresses checked are the ones connected to. Redirects are never followed (node:http does
 * not), since one would re-send a signed body somewhere nobody subscribed, internal or not.
 */
export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly policy: WebhookAddressPolicy) {}

  async post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
    const target = new URL(url);
    this.policy.checkLiteral(target);
    const client = target.protocol === 'https:' ? https : http;
    return new Promise<number>((resolve, reject) => {
      const req = client.request(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          // No pooled socket: each attempt resolves and checks the name again.
          agent: false,
          lookup: this.policy.lookup,
          signal,
        },
        (res) => {
          // Only the status matters; closing frees the connection without reading a large answer.
          res.on('error', () => undefined);
          res.destroy();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

/** The error code behind a failed attempt, for the server log (never for users). */
export function sendErrorDetail(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : '';
  return [code, typeof e.message === 'string' ? e.message : String(err)].filter(Boolean).join(': ');
}

/**
 * One line for the attempt record, which users read. It never carries the socket error
 * (ECONNREFUSED 10.0.0.5:22 vs ECONNRESET …): told apart per port, those would make webhooks a
 * port scanner. The detail goes to the server log instead.
 */
export function describeSendError(err: unknown, timeoutMs: number): string {
  if (err instanceof InternalAddressError) return REFUSED_INTERNAL;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
    return `timed out (no answer within ${timeoutMs} ms)`;
  return 'could not connect';
}
