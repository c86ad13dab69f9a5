import { CreateTrainingJobRequest, TrainingJobSpec, type CreateTrainingJobRequest as CreateRequest } from '@tc/contracts';
import { Document, isMap, isNode, isScalar, isSeq, LineCounter, parse, parseDocument, visit, type Node } from 'yaml';
import type { z } from 'zod';

/** One thing wrong with a job file: where (line 0 when it came from --set) and which field. */
export interface Problem {
  line: number;
  col: number;
  /** Dot-joined field path, as the API's `fields` name it (`algorithm.imagePath`, `env.0.value`). */
  path: string;
  message: string;
  fromSet?: boolean;
}

export interface CheckedJob {
  request: CreateRequest | null;
  problems: Problem[];
}

/**
 * `${VAR}`, `${VAR:-default}` and `${VAR-default}` come from the environment; `$${VAR}` keeps
 * the text `${VAR}` for the container's shell. A bare `$VAR` is left alone, so boot commands
 * can still use the job's own variables.
 */
const VARIABLE = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g;

/** Parses, substitutes and overrides a job file, then checks it against the API's own schema. */
export function checkJobFile(text: string, env: NodeJS.ProcessEnv, sets: readonly string[]): CheckedJob {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    return {
      request: null,
      problems: doc.errors.map((e) => ({
        line: e.linePos?.[0].line ?? 0,
        col: e.linePos?.[0].col ?? 0,
        path: '',
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    };
  }
  if (doc.contents === null) return { request: null, problems: [{ line: 1, col: 1, path: '', message: 'the file is empty' }] };
  const problems = substitute(doc, env, lines);
  problems.push(...applySets(doc, sets));
  if (problems.length) return { request: null, problems };
  return validate(doc, lines);
}

/** The same check for a spec that came from the API (rerun), with --set applied; no lines to name. */
export function checkSpec(spec: unknown, sets: readonly string[]): CheckedJob {
  const doc = new Document(spec);
  const problems = applySets(doc, sets);
  if (problems.length) return { request: null, problems };
  return validate(doc, new LineCounter());
}

function validate(doc: Document, lines: LineCounter): CheckedJob {
  const value: unknown = doc.toJS();
  const problems = unknownFields(doc, value, lines);
  const parsed = CreateTrainingJobRequest.safeParse(value);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => locate(doc, lines, i.path.map(pathKey), i.message)));
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  return { request: parsed.success && problems.length === 0 ? parsed.data : null, problems };
}

function pathKey(k: PropertyKey): string | number {
  return typeof k === 'number' ? k : String(k);
}

/**
 * The node at the path, or the closest one above it when the field is missing, as a position.
 * A node without a range was put there by --set.
 */
function locate(doc: Document, lines: LineCounter, path: (string | number)[], message: string): Problem {
  for (let i = path.length; i >= 0; i--) {
    const node: unknown = i === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
    if (!isNode(node)) continue;
    const at = (node as Node).range;
    if (!at) return { line: 0, col: 0, path: path.join('.'), message, fromSet: true };
    // A missing field has no line: name the line of the section it belongs in (`algorithm:`).
    const key = i < path.length && i > 0 ? keyPosition(doc, lines, path.slice(0, i - 1), path[i - 1]!) : null;
    if (key) return { ...key, path: path.join('.'), message };
    const pos = lines.linePos(at[0]);
    return { line: pos.line, col: pos.col, path: path.join('.'), message };
  }
  return { line: 1, col: 1, path: path.join('.'), message };
}

function substitute(doc: Document, env: NodeJS.ProcessEnv, lines: LineCounter): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Scalar(key, node, p) {
      if (key === 'key' || typeof node.value !== 'string') return;
      node.value = node.value.replace(VARIABLE, (whole, escaped: string | undefined, name: string, colon: string, fallback?: string) => {
        if (escaped) return whole.slice(1);
        const v = env[name];
        if (v !== undefined && (v !== '' || colon !== ':')) return v;
        if (fallback !== undefined) return fallback;
        const pos = node.range ? lines.linePos(node.range[0]) : { line: 0, col: 0 };
        const field = fieldPath(p);
        problems.push({
          ...pos,
          path: field,
          message: `\${${name}} is not set in the environment (give a default with \${${name}:-value})`,
        });
        return whole;
      });
    },
  });
  return problems;
}

/** The field path of a visited node, from its ancestors' pairs and sequence positions. */
function fieldPath(ancestors: readonly unknown[]): string {
  const out: string[] = [];
  ancestors.forEach((a, i) => {
    const child = ancestors[i + 1];
    if (isSeq(a) && child !== undefined) out.push(String(a.items.indexOf(child as never)));
    if (a && typeof a === 'object' && 'key' in a && 'value' in a) {
      const k = (a as { key: unknown }).key;
      out.push(isScalar(k) ? String(k.value) : String(k));
    }
  });
  return out.join('.');
}

/**
 * `--set a.b=value`: the value is read as YAML (so `resources.nodes=2` is a number), except
 * under `env.NAME`, which sets or adds that variable as text, as the environment holds text.
 */
export function applySets(doc: Document, sets: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    const key = eq > 0 ? s.slice(0, eq) : '';
    if (!key || key.split('.').some((k) => k === '')) {
      problems.push({
        line: 0,
        col: 0,
        path: '--set',
        message: `"${s}" must look like field.path=value (e.g. env.EPOCHS=30)`,
        fromSet: true,
      });
      continue;
    }
    const raw = s.slice(eq + 1);
    const path = key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    if (path[0] === 'env' && path.length === 2 && typeof path[1] === 'string') {
      setEnv(doc, path[1], raw);
      continue;
    }
    let value: unknown = raw;
    try {
      value = parse(raw);
    } catch {
      // Not YAML on its own (e.g. "a: b: c"): the text as given.
    }
    if (value === null && raw !== 'null' && raw !== '~') value = raw;
    doc.setIn(path, doc.createNode(value));
  }
  return problems;
}

function setEnv(doc: Document, name: string, value: string): void {
  const list = doc.getIn(['env']);
  const entry = doc.createNode({ name, value });
  if (!isSeq(list)) {
    doc.setIn(['env'], doc.createNode([{ name, value }]));
    return;
  }
  const i = list.items.findIndex((item) => isMap(item) && item.get('name') === name);
  if (i >= 0) doc.setIn(['env', i, 'value'], doc.createNode(value));
  else list.add(entry);
}

/**
 * The API ignores fields it does not know, so a misspelt `maxRuntimeMinute` would silently do
 * nothing: a job file names them as errors, with the closest known field.
 */
function unknownFields(doc: Document, value: unknown, lines: LineCounter): Problem[] {
  const problems: Problem[] = [];
  const walk = (schema: z.core.$ZodType | undefined, v: unknown, path: (string | number)[]): void => {
    const element = elementOf(schema);
    if (element && Array.isArray(v)) return v.forEach((item, i) => walk(element, item, [...path, i]));
    const known = fieldsOf(schema);
    if (!known || !v || typeof v !== 'object' || Array.isArray(v)) return;
    for (const [k, child] of Object.entries(v)) {
      const inner = known.get(k);
      if (known.has(k)) {
        if (inner) walk(inner, child, [...path, k]);
        continue;
      }
      const hint = closest(k, [...known.keys()]);
      const keyPos = keyPosition(doc, lines, path, k) ?? locate(doc, lines, [...path, k], '');
      problems.push({
        ...keyPos,
        path: [...path, k].join('.'),
        message: `unknown field${hint ? `; did you mean ${hint}?` : ''} (known here: ${[...known.keys()].join(', ')})`,
      });
    }
  };
  walk(TrainingJobSpec, value, []);
  return problems;
}

function keyPosition(
  doc: Document,
  lines: LineCounter,
  path: (string | number)[],
  key: string | number,
): { line: number; col: number } | null {
  const parent: unknown = path.length ? doc.getIn(path, true) : doc.contents;
  if (!isMap(parent)) return null;
  const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
  const range = isNode(pair?.key) ? pair.key.range : undefined;
  if (!range) return null;
  const pos = lines.linePos(range[0]);
  return { line: pos.line, col: pos.col };
}

function elementOf(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  if (!schema) return undefined;
  const def = schema._zod.def as { type: string; element?: z.core.$ZodType; innerType?: z.core.$ZodType };
  if (def.type === 'optional') return elementOf(def.innerType);
  return def.type === 'array' ? def.element : undefined;
}

/** The fields an object schema knows, with each field's schema (undefined when it is no object). */
function fieldsOf(schema: z.core.$ZodType | undefined): Map<string, z.core.$ZodType | undefined> | null {
  if (!schema) return null;
  const def = schema._zod.def as {
    type: string;
    shape?: Record<string, z.core.$ZodType>;
    innerType?: z.core.$ZodType;
    options?: z.core.$ZodType[];
  };
  if (def.type === 'optional' || def.type === 'nullable') return fieldsOf(def.innerType);
  if (def.type === 'object' && def.shape) return new Map(Object.entries(def.shape));
  if (def.type === 'union' && def.options) {
    const all = new Map<string, z.core.$ZodType | undefined>();
    for (const o of def.options) for (const [k, v] of fieldsOf(o) ?? []) all.set(k, v);
    return all.size ? all : null;
  }
  return null;
}

function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function formatProblems(file: string, problems: readonly Problem[]): string {
  return problems
    .map((p) => {
      const where = p.fromSet ? `${file} (--set)` : p.line ? `${file}:${p.line}:${p.col}` : file;
      return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
    })
    .join('\n');
}

/** What `trainctl init` writes: every field of the create request, commented. */
export const EXAMPLE_JOB_FILE = `# A training job for \`trainctl run\` (check it offline with \`trainctl validate\`).
# The fields are the create request's (POST /api/v1/training-jobs, see /api/docs).
# \${VAR} comes from your environment when the file is read (\${VAR:-default} has a default);
# write $\${VAR} to keep the text \${VAR}. Override any field: --set env.EPOCHS=30.

# Letters, digits, - and _; each run of the same name is its next version (V001, V002, ...).
name: linreg-demo
description: Linear regression on the demo data

algorithm:
  source: custom
  # A local image, or one from your registry (registry.example.com:5000/team/train:1.0).
  imagePath: demo/linreg-train:1.0
  # Copied to /home/work/user-job-dir/ before the run.
  codeDir: obs://demo/code/linreg/
  # Run with sh -c as UID 1101; $EPOCHS (no braces) is left for the container's shell.
  bootCommand: sh /home/work/user-job-dir/linreg/train.sh --epochs $EPOCHS

# Copied to /home/work/data/ (or: source: dataset, datasetId: ..., version: V001).
data:
  source: path
  path: obs://demo/data/

# /home/work/outputs/ is uploaded here when the job ends.
trainOutput: obs://demo/output/linreg/
# Where the log files go (optional).
logPath: obs://demo/logs/

env:
  - name: EPOCHS
    value: "20"
  # - name: API_KEY
  #   value: \${API_KEY}
  #   secret: true

# Optional: omitted means the smallest CPU flavor of the public pool, one node (see \`trainctl pools\`).
# resources:
#   pool: public
#   type: CPU
#   flavor: cpu.1u2g
#   nodes: 1

# maxRuntimeMinutes: 60
`;
