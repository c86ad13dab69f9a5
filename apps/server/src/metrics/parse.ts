import { METRIC_LINE_PREFIX, METRIC_NAME_PATTERN, type MetricDefinition } from '@tc/contracts';

/** One value read from a log line or a metrics.jsonl line. */
export interface ParsedValue {
  name: string;
  value: number;
  /** null when the line names no step: the caller uses the line's position instead. */
  step: number | null;
}

/** Definitions compiled once per job, not once per line. */
export interface CompiledDefinitions {
  defs: readonly { name: string; re: RegExp }[];
  names: ReadonlySet<string>;
}

export function compileDefinitions(defs: readonly MetricDefinition[] | undefined): CompiledDefinitions {
  const list = (defs ?? []).map((d) => ({ name: d.name, re: new RegExp(d.regex) }));
  return { defs: list, names: new Set(list.map((d) => d.name)) };
}

/**
 * `name=value` or `name: value`, the name starting with a letter or `_`, the value a plain
 * number (int, float, exponent) followed by the end, a separator or `%`. The name must start
 * the line or follow a separator, so `x:1` inside a word or a time like `12:30:45` is not a pair.
 */
const PAIR =
  /(?:^|[\s,;|{([])["']?([A-Za-z_][A-Za-z0-9_.:/-]{0,63}?)["']?\s*[=:]\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?=$|[\s,;|})\]%])/g;
/** The step a line is at; a finer counter (step, iter) wins over the epoch. */
const STEP = /\b(?:step|iter|iteration)\b\s*[=:]?\s*\[?(\d{1,12})\b/i;
const EPOCH = /\bepoch\b\s*[=:]?\s*\[?(\d{1,12})(?:\s*\/\s*\d+)?/i;
/** Counters, not metrics: they give the step. */
const STEP_NAMES: ReadonlySet<string> = new Set(['step', 'iter', 'iteration', 'epoch', 'global_step']);

function stepOf(line: string): number | null {
  const m = STEP.exec(line) ?? EPOCH.exec(line);
  return m ? Number(m[1]) : null;
}

/** A number as a metric value: finite only (nan and inf are not plotted). */
function numberOf(text: string): number | null {
  const t = text.trim();
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * The metrics on one log line: the defined ones first (their capture group, if it is a number),
 * then the default `name=value` / `name: value` pairs whose name no definition took. Only the
 * first METRIC_LINE_PREFIX characters are read, which bounds what a user's regex costs per line.
 */
export function parseLine(text: string, compiled: CompiledDefinitions): ParsedValue[] {
  const line = text.length > METRIC_LINE_PREFIX ? text.slice(0, METRIC_LINE_PREFIX) : text;
  const step = stepOf(line);
  const out: ParsedValue[] = [];
  const taken = new Set<string>();
  for (const d of compiled.defs) {
    const m = d.re.exec(line);
    const v = m?.[1] === undefined ? null : numberOf(m[1]);
    if (v === null) continue;
    out.push({ name: d.name, value: v, step });
    taken.add(d.name);
  }
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(line); m; m = PAIR.exec(line)) {
    const name = m[1]!;
    if (compiled.names.has(name) || taken.has(name) || STEP_NAMES.has(name.toLowerCase())) continue;
    const v = numberOf(m[2]!);
    if (v === null) continue;
    out.push({ name, value: v, step });
    taken.add(name);
  }
  return out;
}

/** One metrics.jsonl line: `{"step": 3, "loss": 0.3, ...}`; optional `node` and `at`/`time`/`timestamp`. */
export interface JsonlRecord {
  values: { name: string; value: number }[];
  step: number | null;
  node: number | null;
  at: string | null;
}

export function parseJsonl(text: string): JsonlRecord | null {
  const t = text.trim();
  if (!t.startsWith('{')) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(t);
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  const rec = obj as Record<string, unknown>;
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const step = num(rec.step) ?? num(rec.global_step) ?? num(rec.iter) ?? num(rec.epoch);
  const node = num(rec.node);
  const stamp = [rec.at, rec.time, rec.timestamp].find((v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)));
  const values: { name: string; value: number }[] = [];
  for (const [name, v] of Object.entries(rec)) {
    if (STEP_NAMES.has(name.toLowerCase()) || name === 'node' || name === 'at' || name === 'time' || name === 'timestamp') continue;
    const value = num(v);
    if (value === null || !METRIC_NAME_PATTERN.test(name)) continue;
    values.push({ name, value });
  }
  return {
    values,
    step,
    node: node !== null && Number.isInteger(node) && node >= 0 && node < 1024 ? node : null,
    at: typeof stamp === 'string' ? new Date(stamp).toISOString() : null,
  };
}
