/** V001, V002 … V999, V1000: three digits at least, so names sort until a thousand versions. */
export function formatVersion(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`version number must be a positive integer, got ${n}`);
  return `V${String(n).padStart(3, '0')}`;
}

/** The number in "V012"; null when the text is not a version. */
export function parseVersion(v: string): number | null {
  const m = /^V(\d{3,})$/.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  return n >= 1 ? n : null;
}
