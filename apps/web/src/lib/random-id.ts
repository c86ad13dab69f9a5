/** A random id for Idempotency-Key; `crypto.randomUUID` exists only in secure contexts (not plain-HTTP LAN addresses). */
export function randomId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
