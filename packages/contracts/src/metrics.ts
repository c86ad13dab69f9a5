import { z } from 'zod';
import { Timestamp } from './timestamp.js';

/** A metric's name: what charts and the CSV show; no commas or quotes, so CSV needs no escaping. */
export const METRIC_NAME_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/;
export const MAX_METRIC_DEFINITIONS = 20;
export const MAX_METRIC_REGEX_LENGTH = 256;
/** A definition's regex (and the default pairs) see only this much of a line: it bounds the work per line. */
export const METRIC_LINE_PREFIX = 1000;
/**
 * The most backtracking a pattern may promise (see checkMetricRegex): the product of what each
 * quantifier may repeat, an unbounded one counting as the line's length. One unbounded
 * quantifier fits, with small bounded ones beside it; two do not.
 */
export const MAX_METRIC_REGEX_COST = 20_000;

/**
 * Why a user's regex may not run on the server, or null if it may. The console runs these on
 * every log line with JavaScript's backtracking engine (RE2 is not available), so a pattern that
 * backtracks exponentially would stall the server: this check refuses, conservatively, the
 * shapes that do (a quantified group that itself holds a quantifier or an alternation,
 * backreferences, lookarounds), and patterns whose quantifiers together could backtrack more
 * than MAX_METRIC_REGEX_COST times per start position (two `.*` on a 1,000-character line
 * already cost about a second), which keeps the polynomial cases small on a line cut at
 * METRIC_LINE_PREFIX characters.
 */
export function checkMetricRegex(source: string): string | null {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`;
  }
  // `x|` matches '' always; the match array then has one slot per capture group.
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  if (groups !== 1) return `must have exactly one capture group (the value), found ${groups}`;

  interface Group {
    quantified: boolean;
    alternation: boolean;
  }
  const stack: Group[] = [{ quantified: false, alternation: false }];
  let cost = 1;
  let i = 0;
  /** The quantifier at `at`, if any: its length and whether it is unbounded (or large). */
  const quantifierAt = (at: number): { len: number; choices: number; repeats: boolean } | null => {
    const c = source[at];
    const lazy = source[at + 1] === '?' ? 2 : 1;
    if (c === '*' || c === '+') return { len: lazy, choices: METRIC_LINE_PREFIX, repeats: true };
    if (c === '?') return { len: lazy, choices: 2, repeats: false };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(source.slice(at));
      if (!m) return null;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      return { len: m[0].length, choices: Math.min(METRIC_LINE_PREFIX, max - min + 1), repeats: max > 1 };
    }
    return null;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'must not use backreferences (\\1, \\k<name>)';
      i += 2;
    } else if (c === '[') {
      // A character class: skip to its end; nothing inside is a group or quantifier.
      i += 1;
      if (source[i] === '^') i += 1;
      if (source[i] === ']') i += 1;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i += 1;
    } else if (c === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(source.slice(i))) return 'must not use lookarounds ((?=, (?!, (?<=, (?<!)';
      stack.push({ quantified: false, alternation: false });
      i += 1;
      continue;
    } else if (c === ')') {
      const group = stack.pop()!;
      i += 1;
      const q = quantifierAt(i);
      if (q) {
        if (q.repeats && (group.quantified || group.alternation)) {
          return 'must not repeat a group that holds a quantifier or an alternation, as in (a+)+ or (a|b)* (catastrophic backtracking)';
        }
        cost *= q.choices;
        i += q.len;
      }
      const parent = stack[stack.length - 1]!;
      parent.quantified ||= group.quantified || q !== null;
      continue;
    } else if (c === '|') {
      stack[stack.length - 1]!.alternation = true;
      i += 1;
      continue;
    } else {
      i += 1;
    }
    // After an atom (escape, class or plain character): its quantifier, if any.
    const q = quantifierAt(i);
    if (q) {
      stack[stack.length - 1]!.quantified = true;
      cost *= q.choices;
      i += q.len;
    }
  }
  if (cost > MAX_METRIC_REGEX_COST) {
    return 'may hold at most one unbounded quantifier (*, +, {n,}) beside small bounded ones such as \\d{1,12} (more backtrack too much)';
  }
  return null;
}

export const MetricDefinition = z.object({
  name: z
    .string({ error: 'Metric name is required' })
    .min(1, { error: 'Metric name is required' })
    .max(64, { error: 'Metric name must be at most 64 characters' })
    .regex(/^$|^[A-Za-z0-9_.:/-]+$/, { error: 'Metric name may contain only letters, digits and _ . : / -' }),
  regex: z
    .string({ error: 'Metric regular expression is required' })
    .min(1, { error: 'Metric regular expression is required' })
    .max(MAX_METRIC_REGEX_LENGTH, { error: `Metric regular expression must be at most ${MAX_METRIC_REGEX_LENGTH} characters` })
    .superRefine((src, ctx) => {
      if (src === '') return;
      const why = checkMetricRegex(src);
      if (why) ctx.addIssue({ code: 'custom', message: `Metric regular expression ${why}` });
    }),
});
export type MetricDefinition = z.infer<typeof MetricDefinition>;

export const MetricDefinitions = z
  .array(MetricDefinition)
  .max(MAX_METRIC_DEFINITIONS, { error: `At most ${MAX_METRIC_DEFINITIONS} metrics may be defined` })
  .superRefine((defs, ctx) => {
    const seen = new Set<string>();
    defs.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `Metric ${d.name} is defined twice` });
      seen.add(d.name);
    });
  });

export const PutMetricDefinitionsRequest = z.object({ metrics: MetricDefinitions });
export type PutMetricDefinitionsRequest = z.infer<typeof PutMetricDefinitionsRequest>;

export const MetricPoint = z.object({
  /** From the line (`epoch N/M`, `step N`, `iter N`) or the JSON line's `step`; absent when there is none. */
  step: z.number().optional(),
  at: Timestamp,
  value: z.number(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

export const MetricSeries = z.object({
  name: z.string(),
  node: z.int().min(0),
  points: z.array(MetricPoint),
});
export type MetricSeries = z.infer<typeof MetricSeries>;

export const JobMetrics = z.object({ series: z.array(MetricSeries) });
export type JobMetrics = z.infer<typeof JobMetrics>;
