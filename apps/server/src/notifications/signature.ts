import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-TC-Signature';
export const TIMESTAMP_HEADER = 'X-TC-Timestamp';

/** 32 random bytes: as strong as the SHA-256 it keys. Receivers use the string as given (UTF-8). */
export function newTopicSecret(): string {
  return `tcwh_${randomBytes(32).toString('base64url')}`;
}

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The timestamp is inside the MAC,
 * so a receiver that refuses old timestamps also refuses a captured message replayed later.
 */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does; exported for the tests and as the reference for the README. */
export function verifySignature(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
