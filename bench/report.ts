import type { Machine } from './lib/env.js';
import type { Measured, Row } from './lib/report-types.js';
import { max, median, min } from './lib/stats.js';

function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(m: Measured): string {
  const spread = m.runs.length > 1 ? ` (${num(min(m.runs))}–${num(max(m.runs))})` : '';
  return `${num(median(m.runs))}${spread} ${m.unit}`;
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

export interface ReportInput {
  machine: Machine;
  startedAt: Date;
  endedAt: Date;
  quick: boolean;
  selected: string[];
  rows: Row[];
  /** Benchmarks that failed to run, with the error. */
  failures: { bench: string; error: string }[];
  /** Free text (analysis of missed goals) keyed by bench name. */
  analysis: Record<string, string>;
  /** Free text rendered after the table. */
  general?: string;
}

export function renderReport(r: ReportInput): string {
  const m = r.machine;
  const out: string[] = [];
  out.push('# Benchmarks', '');
  out.push(
    'Produced by `npm run bench` (bench/run.ts; not part of `npm test`). Each benchmark runs beside its baseline in the',
    'same run on the same machine, alternating baseline and console run by run; the table gives the median with the spread',
    '(min–max) of the repetitions in brackets, and the ratio of the medians. The machine is shared with other workers,',
    'so absolute numbers move between runs; the ratios are what the goals are about.',
    '',
    'Options: `npm run bench -- --quick` (fewer repetitions), `npm run bench -- <name> …` (only those benchmarks:',
    'first-log, stage-big, stage-small, upload, logs, job-list, peak-rss, spa-size, swarm; the report then holds only them),',
    '`npm run bench -- --render [results.json]` (re-render this file from the results a run saved in the temp dir).',
    '',
  );
  out.push(
    `Run: ${r.startedAt.toISOString()} → ${r.endedAt.toISOString()}${r.quick ? ' (--quick: fewer repetitions)' : ''}; benchmarks: ${r.selected.join(', ')}.`,
    '',
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB memory, ${m.kernel}; Node ${m.node}; Docker Engine ${m.dockerVersion} (${m.storageDriver}); ${m.rclone}.`,
    'Object store for the console and for rclone: the embedded store (s3rver in a child process on loopback) started by the bench.',
    '',
  );
  out.push('| Benchmark | Console | Baseline | Ratio | Goal | Met | Reproduce |', '|---|---|---|---|---|---|---|');
  for (const row of r.rows) {
    const base = row.baseline ? `${cell(row.baseline)}` : '—';
    const ratio = row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`;
    out.push(
      `| ${esc(row.title)} | ${cell(row.console)} | ${base} | ${ratio} | ${esc(row.goal)} | ${row.met ? 'yes' : '**no**'} | \`${row.command}\` |`,
    );
  }
  for (const f of r.failures)
    out.push(`| ${f.bench} | failed: ${esc(f.error.split('\n')[0] ?? '')} | | | | **no** | \`npm run bench -- ${f.bench}\` |`);
  out.push('');
  if (r.general) out.push(r.general, '');
  out.push('## What each row measures', '');
  const explained = new Set<string>();
  for (const row of r.rows) {
    out.push(`### ${row.title}`, '');
    out.push(`- Console: ${row.console.what}. Runs: ${row.console.runs.map(num).join(', ')} ${row.console.unit}.`);
    if (row.baseline)
      out.push(
        `- Baseline: ${row.baseline.name}; ${row.baseline.what}. Runs: ${row.baseline.runs.map(num).join(', ')} ${row.baseline.unit}.`,
      );
    for (const n of row.notes) out.push(`- ${n}`);
    out.push(`- Goal: ${row.goal} — ${row.met ? 'met' : '**missed**'}.`);
    // Under the first row of its benchmark whose goal is missed.
    const a = r.analysis[row.bench];
    if (a && !row.met && !explained.has(row.bench)) {
      explained.add(row.bench);
      out.push('', a);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
