#!/usr/bin/env node
/* global process, console */
// The import graph's health in two figures, rerun after any move: `node scripts/import-graph.mjs`
// (add --list to see each arrow). Figures: apps/server/src arrows that run up the layers, and
// circular imports in apps/server/src and apps/web/src. Test files are left out (a test may
// reach anywhere). Parsed with the TypeScript compiler, so multi-line and type-only imports count.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const list = process.argv.includes('--list');

function sources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (/\.tsx?$/.test(entry.name) && !/\.(test|spec)\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function resolve(from, spec) {
  if (!spec.startsWith('.')) return undefined; // packages (@tc/contracts included) are outside the graph
  const base = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [base + '.ts', base + '.tsx', path.join(base, 'index.ts'), path.join(base, 'index.tsx')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every relative import of a file: { to, typeOnly }. An import is type-only when nothing of it exists at run time. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (spec, typeOnly) => {
    const to = resolve(file, spec);
    if (to) found.push({ to, typeOnly });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : [];
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function graph(dir) {
  const files = sources(dir);
  return new Map(files.map((f) => [f, importsOf(f)]));
}

/** Tarjan's strongly connected components; a component of two or more files is a circle. */
function circles(edges, runtimeOnly) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const { to, typeOnly } of edges.get(v) ?? []) {
      if (runtimeOnly && typeOnly) continue;
      if (!idx.has(to)) {
        strong(to);
        low.set(v, Math.min(low.get(v), low.get(to)));
      } else if (on.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp);
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) strong(v);
  return out;
}

// The server's layers, top to bottom. A unit is a top-level folder of src (engine/docker is one of
// its own); within a unit imports are free. The ports sit below the adapters that implement them:
// an adapter importing its port is the dependency inversion, not an upward arrow.
const LAYERS = ['composition root', 'http', 'feature', 'adapter', 'port', 'kernel'];
const FEATURES = new Set([
  'accounts',
  'jobs',
  'configs',
  'job-parameters',
  'notifications',
  'datasets',
  'budget',
  'usage',
  'metrics',
  'images',
  'engine',
  'demo',
]);
const PORTS = new Set(['engine/container-engine.ts', 'engine/node-agent.ts', 'storage/object-store.ts']);

function place(rel) {
  if (rel === 'main.ts' || rel === 'app.ts') return { unit: rel, layer: 'composition root' };
  if (PORTS.has(rel)) return { unit: rel, layer: 'port' };
  if (!rel.includes('/')) return { unit: rel, layer: 'kernel' }; // errors.ts, config.ts, kept-value.ts
  if (rel.startsWith('engine/docker/')) return { unit: 'engine/docker', layer: 'adapter' };
  const top = rel.split('/')[0];
  if (top === 'http') return { unit: top, layer: 'http' };
  if (top === 'db' || top === 'storage') return { unit: top, layer: 'adapter' };
  if (FEATURES.has(top)) return { unit: top, layer: 'feature' };
  throw new Error(`scripts/import-graph.mjs: no layer for apps/server/src/${rel}; add its folder`);
}

const rel = (dir, f) => path.relative(dir, f).split(path.sep).join('/');

const serverDir = path.join(root, 'apps/server/src');
const server = graph(serverDir);
const upward = [];
let crossUnit = 0;
for (const [from, edges] of server) {
  const a = place(rel(serverDir, from));
  for (const { to, typeOnly } of edges) {
    const b = place(rel(serverDir, to));
    if (a.unit === b.unit) continue;
    crossUnit++;
    if (LAYERS.indexOf(b.layer) < LAYERS.indexOf(a.layer)) {
      upward.push(`${rel(serverDir, from)} (${a.layer}) → ${rel(serverDir, to)} (${b.layer})${typeOnly ? ' [type only]' : ''}`);
    }
  }
}

const report = (name, dir, edges) => {
  const all = circles(edges, false);
  const runtime = circles(edges, true);
  console.log(`${name}: circular imports ${all.length} (${runtime.length} at run time, type-only imports left out)`);
  if (list) for (const c of all) console.log(`  circle: ${c.map((f) => rel(dir, f)).join(' ↔ ')}`);
};

console.log(`apps/server/src: ${server.size} files, ${crossUnit} imports between units, upward arrows ${upward.length}`);
if (list) for (const u of upward) console.log(`  up: ${u}`);
report('apps/server/src', serverDir, server);
const webDir = path.join(root, 'apps/web/src');
report('apps/web/src', webDir, graph(webDir));
