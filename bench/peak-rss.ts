import type { TrainingJob } from '@tc/contracts';
import { BUCKET, type BenchEnv } from './lib/env.js';
import { putDataset, type Shape } from './lib/data.js';
import type { Row } from './lib/report-types.js';
import { expectSuccess, jobRequest, procStatusBytes, stagingWindow, waitEnded } from './lib/server.js';
import { GiB, median, MiB } from './lib/stats.js';

const SHAPE: Shape = { label: '8 × 256 MiB', count: 8, size: 256 * MiB };

/**
 * The server's peak resident set (VmHWM of the server process, a fresh one per run) while it
 * stages 2 GiB into a container: staging must stream, not hold files.
 */
export async function peakRss(env: BenchEnv): Promise<Row[]> {
  const prefix = 'rss/';
  process.stderr.write(`  generating ${SHAPE.label} under s3://${BUCKET}/${prefix}\n`);
  await putDataset(env.store, BUCKET, prefix, SHAPE);
  const bytes = SHAPE.count * SHAPE.size;

  const reps = env.reps(3, 1);
  const peaks: number[] = [];
  const idle: number[] = [];
  const rates: number[] = [];
  for (let i = 1; i <= reps; i++) {
    const s = await env.freshConsole('rss');
    try {
      idle.push(procStatusBytes(s.pid, 'VmHWM') / MiB);
      const job = await s.api<TrainingJob>(
        'POST',
        '/api/v1/training-jobs',
        jobRequest(`bench-rss-${i}`, env.image, 'du -sk /home/work/data', `obs://${BUCKET}/${prefix}`, `obs://${BUCKET}/out/rss-${i}/`),
      );
      const end = expectSuccess(await waitEnded(s, job));
      peaks.push(procStatusBytes(s.pid, 'VmHWM') / MiB);
      rates.push(bytes / MiB / (stagingWindow(end).ms / 1000));
    } finally {
      await s.stop();
    }
  }
  return [
    {
      bench: 'peak-rss',
      title: `server peak RSS while staging 2 GiB (${SHAPE.label})`,
      console: {
        runs: peaks,
        unit: 'MiB',
        what: 'VmHWM of the server process (node --import tsx main.ts, a fresh process per run) after the job ended',
      },
      baseline: null,
      ratio: null,
      goal: '< 250 MB',
      met: (median(peaks) * MiB) / 1e6 < 250,
      notes: [
        `Same processes just after start-up, before the job: median ${median(idle).toFixed(0)} MiB; staging ran at a median ${median(rates).toFixed(0)} MiB/s. (${((SHAPE.count * SHAPE.size) / GiB).toFixed(0)} GiB = ${((SHAPE.count * SHAPE.size) / 1e9).toFixed(2)} GB staged per run; the goal's MB are 10^6 bytes: ${((median(peaks) * MiB) / 1e6).toFixed(0)} MB.)`,
      ],
      command: 'npm run bench -- peak-rss',
    },
  ];
}
