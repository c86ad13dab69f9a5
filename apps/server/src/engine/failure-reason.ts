/** How many of the last stderr lines a failed job's reason quotes. */
export const QUOTED_LINES = 3;
/** A quoted line is cut after this many characters. */
const LINE_MAX = 160;
/** The quote as a whole stays under this, however the lines fall. */
const QUOTE_MAX = 400;
const MASK = '••••';

/**
 * What a failed job's reason quotes of the last lines its command wrote to stderr: the last few,
 * each cut to a length, with every secret environment value masked (a traceback may print one).
 * Empty when there is nothing to quote. The last line, usually the error itself, is kept first
 * when the whole is too long.
 */
export function quoteStderr(lines: readonly string[], secrets: readonly string[]): string {
  const masks = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  const clean = lines
    .map((l) => masks.reduce((text, s) => text.split(s).join(MASK), l).trim())
    .filter((l) => l.length > 0)
    .slice(-QUOTED_LINES)
    .map((l) => (l.length > LINE_MAX ? `${l.slice(0, LINE_MAX)}…` : l));
  const kept: string[] = [];
  let size = 0;
  for (let i = clean.length - 1; i >= 0; i--) {
    const q = JSON.stringify(clean[i]);
    if (kept.length > 0 && size + q.length > QUOTE_MAX) break;
    kept.unshift(q);
    size += q.length + 3;
  }
  return kept.join(' / ');
}
