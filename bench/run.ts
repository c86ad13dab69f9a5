import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANALYSIS, GENERAL } from './analysis.js';
import { firstLog } from './first-log.js';
import { jobList } from './job-list.js';
import { BenchEnv, type Machine } from './lib/env.js';
import type { Row } from './lib/report-types.js';
import { logs } from './logs.js';
import { peakRss } from './peak-rss.js';
import { renderReport, type ReportInput } from './report.js';
import { spaSize } from './spa-size.js';
import { staging } from './staging.js';
import { swarm } from './swarm.js';
import { upload } from './upload.js';

/**
 * `npm run bench [-- --quick] [name ...]`: runs the selected benchmarks (all by default), each
 * beside its baseline, and writes docs/BENCHMARKS.md. `--render <results.json>` re-renders the
 * report from a run's saved results (every run saves them to the temp dir) without measuring.
 */
const BENCHES: Record<string, (env: BenchEnv) => Promise<Row[]>> = {
  'first-log': firstLog,
  'stage-big': (env) => staging(env, 'big'),
  'stage-small': (env) => staging(env, 'small'),
  upload,
  logs,
  'job-list': jobList,
  'peak-rss': peakRss,
  'spa-size': spaSize,
  swarm,
};

const REPORT = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
const RESULTS = path.join(os.tmpdir(), 'tc-bench-results.json');

type Saved = Omit<ReportInput, 'startedAt' | 'endedAt' | 'analysis'> & { startedAt: string; endedAt: string };

function write(saved: Saved): void {
  const analysis = Object.fromEntries(Object.entries(ANALYSIS).filter(([k]) => saved.rows.some((r) => r.bench === k && !r.met)));
  writeFileSync(
    REPORT,
    renderReport({ ...saved, startedAt: new Date(saved.startedAt), endedAt: new Date(saved.endedAt), analysis, general: GENERAL }),
  );
  process.stderr.write(`wrote ${REPORT}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const renderAt = args.indexOf('--render');
  if (renderAt >= 0) {
    write(JSON.parse(readFileSync(args[renderAt + 1] ?? RESULTS, 'utf8')) as Saved);
    return;
  }
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  const selected = names.length ? names : Object.keys(BENCHES);

  const startedAt = new Date();
  const env = await BenchEnv.create(quick);
  const rows: Row[] = [];
  const failures: { bench: string; error: string }[] = [];
  let machine: Machine;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    process.stderr.write('interrupted: cleaning up\n');
    void env.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    machine = await env.machine();
    for (const name of selected) {
      if (interrupted) break;
      process.stderr.write(`${name}…\n`);
      const t0 = performance.now();
      try {
        const got = await BENCHES[name]!(env);
        rows.push(...got);
        for (const r of got)
          process.stderr.write(
            `  ${r.title}: ${JSON.stringify({ console: r.console.runs, baseline: r.baseline?.runs, ratio: r.ratio, met: r.met })}\n`,
          );
      } catch (err) {
        failures.push({ bench: name, error: (err as Error).stack ?? String(err) });
        process.stderr.write(`  failed: ${(err as Error).stack ?? String(err)}\n`);
      }
      process.stderr.write(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
  } finally {
    await env.close();
  }
  const saved: Saved = { machine, startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), quick, selected, rows, failures };
  writeFileSync(RESULTS, JSON.stringify(saved, null, 2));
  process.stderr.write(`results saved to ${RESULTS}\n`);
  write(saved);
  if (failures.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
