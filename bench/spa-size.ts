import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BenchEnv } from './lib/env.js';
import { rmrf, timeCommand } from './lib/data.js';
import type { Row } from './lib/report-types.js';

const ROOT = process.cwd();

/** The JavaScript index.html makes the browser load before the first render: entry scripts and modulepreloads. */
export function initialScripts(html: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"[^>]*>/g)) out.add(m[1]!);
  for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"[^>]*>/g)) out.add(m[1]!);
  return [...out];
}

const build = (cwd: string, outDir: string): Promise<number> =>
  timeCommand('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { ...process.env, NO_COLOR: '1' }, cwd);

/**
 * A copy of the committed tree's web sources (git archive, nothing in .git touched), with the
 * repository's node_modules linked in, for when the working tree is mid-edit and does not build.
 */
function committedTree(dir: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync(
    'git',
    ['archive', 'HEAD', 'apps/web', 'packages/contracts', 'vite.config.ts', 'package.json', 'tsconfig.json'],
    {
      cwd: ROOT,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const webModules = path.join(ROOT, 'apps/web/node_modules');
  if (existsSync(webModules)) symlinkSync(webModules, path.join(dir, 'apps/web/node_modules'));
  return sha;
}

/** Gzipped size of the SPA's initial JavaScript, built with `npx vite build` into a temp folder. */
export async function spaSize(env: BenchEnv): Promise<Row[]> {
  const outDir = env.mkdtemp('spa');
  const notes: string[] = [];
  try {
    try {
      await build(ROOT, outDir);
      notes.push('Built from the working tree.');
    } catch (err) {
      const first = (err as Error).message.split('\n').find((l) => /error|not found/i.test(l)) ?? '';
      const tree = env.mkdtemp('spa-src');
      const sha = committedTree(tree);
      await build(tree, outDir);
      notes.push(
        `The working tree did not build (mid-edit: ${first.trim().slice(0, 160)}); measured the committed tree (HEAD ${sha}) instead, built the same way.`,
      );
    }
    const html = readFileSync(path.join(outDir, 'index.html'), 'utf8');
    const scripts = initialScripts(html);
    if (!scripts.length) throw new Error('index.html loads no script');
    const sizes = scripts.map((src) => {
      const raw = readFileSync(path.join(outDir, src.replace(/^\//, '')));
      return { src, raw: raw.length, gz: gzipSync(raw, { level: 9 }).length };
    });
    const total = sizes.reduce((a, s) => a + s.gz, 0) / 1000;
    notes.push(
      `Files: ${sizes.map((s) => `${s.src} ${(s.raw / 1000).toFixed(1)} kB raw, ${(s.gz / 1000).toFixed(1)} kB gzip`).join('; ')}.`,
    );
    return [
      {
        bench: 'spa-size',
        title: 'SPA initial JavaScript, gzip',
        console: {
          runs: [total],
          unit: 'kB',
          what: 'sum of gzip -9 sizes of the scripts and modulepreloads in the built index.html (1 kB = 1000 bytes; lazily loaded chunks excluded)',
        },
        baseline: null,
        ratio: null,
        goal: '< 250 kB',
        met: total < 250,
        notes,
        command: 'npm run bench -- spa-size',
      },
    ];
  } finally {
    rmrf(outDir);
  }
}
