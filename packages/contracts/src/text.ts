import type { z } from 'zod';

/**
 * Characters no name, description or path of the console may hold, checked once here for every
 * free-text field:
 * - C0 controls and DEL (NUL cuts C strings short; others rewrite what a terminal or log shows),
 *   except tab and newline where a field is multi-line (descriptions, the boot command);
 * - the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, which
 *   make text read differently from what it is ("Trojan Source");
 * - U+FFFD, what a decoder puts in place of bytes that were not UTF-8: text holding it is not
 *   what the sender had;
 * - lone UTF-16 surrogates (a JSON `"\ud800"`), which are not Unicode text at all.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what these rules look for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_OR_LINE = /[\u0000-\u001f\u007f]/;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/;
const REPLACEMENT = /\ufffd/;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Why `s` is not acceptable text, or null when it is. */
export function textProblem(s: string, opts: { multiline?: boolean } = {}): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if ((opts.multiline ? CONTROL : CONTROL_OR_LINE).test(s)) {
    return opts.multiline ? 'must not contain control characters other than tab and newline' : 'must not contain control characters';
  }
  if (BIDI.test(s)) return 'must not contain bidirectional override characters (U+202A–U+202E, U+2066–U+2069)';
  if (REPLACEMENT.test(s)) return 'must not contain U+FFFD (the replacement for bytes that were not valid UTF-8)';
  if (LONE_SURROGATE.test(s)) return 'must not contain unpaired UTF-16 surrogates';
  return null;
}

/**
 * `schema` with the rules above; `label` starts the message, so the 400 says which field and why.
 * A refinement (not a regex) keeps the string's type and its other checks' messages as they are.
 */
export function cleanText<T extends z.ZodString>(schema: T, label: string, opts: { multiline?: boolean } = {}): T {
  return schema.superRefine((s, ctx) => {
    const problem = textProblem(s, opts);
    if (problem) ctx.addIssue({ code: 'custom', message: `${label} ${problem}`, input: s });
  }) as T;
}
