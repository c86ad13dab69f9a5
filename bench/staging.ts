import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TrainingJob } from '@tc/contracts';
import { stagingTar } from '../apps/server/src/engine/staging.js';
import { BUCKET, type BenchEnv } from './lib/env.js';
import { putDataset, rmrf, SHAPES, timeCommand, type Shape } from './lib/data.js';
import type { Row } from './lib/report-types.js';
import { deleteJob, eventAt, expectSuccess, jobRequest, waitEnded } from './lib/server.js';
import { median, MiB } from './lib/stats.js';

/**
 * Staging data into the container (object store → tar → Docker archive API), timed by the job's
 * own events (code staged → data staged), against `rclone copy` of the same prefix to local disk.
 */
export async function staging(env: BenchEnv, which: 'big' | 'small'): Promise<Row[]> {
  const shape: Shape = SHAPES[which];
  const prefix = `stage/${which}/`;
  const bytes = shape.count * shape.size;
  process.stderr.write(`  generating ${shape.label} under s3://${BUCKET}/${prefix}\n`);
  await putDataset(env.store, BUCKET, prefix, shape);
  const s = await env.console();

  const consoleRun = async (n: number): Promise<{ mbps: number; submitToRunningMs: number }> => {
    const boot = `n=$(ls /home/work/data | wc -l); test "$n" -eq ${shape.count} || { echo "staged $n files" >&2; exit 1; }`;
    const job = await s.api<TrainingJob>(
      'POST',
      '/api/v1/training-jobs',
      jobRequest(`bench-stage-${which}-${n}`, env.image, boot, `obs://${BUCKET}/${prefix}`, `obs://${BUCKET}/out/stage-${which}-${n}/`),
    );
    const end = expectSuccess(await waitEnded(s, job));
    const ms = eventAt(end, 'data-download') - eventAt(end, 'code-download');
    await deleteJob(s, job);
    return { mbps: bytes / MiB / (ms / 1000), submitToRunningMs: Date.parse(end.startedAt ?? '') - Date.parse(end.createdAt) };
  };
  const rcloneRun = async (): Promise<number> => {
    const dir = env.mkdtemp(`rclone-down-${which}`);
    try {
      const ms = await timeCommand('rclone', ['copy', `bench:${BUCKET}/${prefix}`, dir], env.rcloneEnv());
      return bytes / MiB / (ms / 1000);
    } finally {
      rmrf(dir);
    }
  };

  /**
   * The two halves of staging apart, once each: the store → tar half (the server's stagingTar in
   * this process, the tar thrown away) and the engine half (a tar file from local disk into
   * PUT /containers/{id}/archive of a fresh container).
   */
  const phases = async (): Promise<string> => {
    const file = path.join(env.mkdtemp(`tar-${which}`), 'data.tar');
    let t0 = performance.now();
    const st = stagingTar(env.store, { bucket: BUCKET, prefix, dest: 'home/work/data' });
    await pipeline(st.tar, new Writable({ write: (_c, _e, cb) => cb() }));
    await st.report;
    const tarMs = performance.now() - t0;
    const st2 = stagingTar(env.store, { bucket: BUCKET, prefix, dest: 'home/work/data' });
    await pipeline(st2.tar, createWriteStream(file));
    const tarBytes = statSync(file).size;
    const c = await env.docker.createContainer({ Image: env.image, Cmd: ['true'], NetworkDisabled: true });
    try {
      t0 = performance.now();
      const res = await c.putArchive(createReadStream(file), { path: '/' });
      // dockerode resolves with the response stream for this call; drain it until the engine is done.
      if (res && typeof (res as NodeJS.ReadableStream).resume === 'function') {
        await new Promise<void>((resolve, reject) => {
          (res as NodeJS.ReadableStream).on('end', resolve).on('error', reject).resume();
        });
      }
      const engineMs = performance.now() - t0;
      return `Halves measured apart (once): store → tar in the server's code alone ${(bytes / MiB / (tarMs / 1000)).toFixed(1)} MiB/s (${(tarMs / 1000).toFixed(1)} s); the engine unpacking the same ${(tarBytes / MiB).toFixed(0)} MiB tar from local disk into a container alone ${(bytes / MiB / (engineMs / 1000)).toFixed(1)} MiB/s (${(engineMs / 1000).toFixed(1)} s).`;
    } finally {
      await c.remove({ force: true });
      rmrf(path.dirname(file));
    }
  };

  const reps = env.reps(3, 1);
  const ours: number[] = [];
  const toRunning: number[] = [];
  const base: number[] = [];
  for (let i = 1; i <= reps; i++) {
    base.push(await rcloneRun());
    const r = await consoleRun(i);
    ours.push(r.mbps);
    toRunning.push(r.submitToRunningMs);
  }
  const phaseNote = await phases();
  const ratio = median(ours) / median(base);
  return [
    {
      bench: which === 'big' ? 'stage-big' : 'stage-small',
      title: `stage ${which === 'big' ? '1 GiB as 100 × 10 MiB' : '10,000 × 4 KiB files'} into the container`,
      console: {
        runs: ours,
        unit: 'MiB/s',
        what: 'dataset size ÷ (data-download event − code-download event): list, GET every object, tar, PUT /containers/{id}/archive',
      },
      baseline: {
        name: `\`rclone copy bench:${BUCKET}/${prefix} <local dir>\` (rclone defaults: 4 transfers, 8 checkers)`,
        runs: base,
        unit: 'MiB/s',
        what: 'dataset size ÷ wall time of the rclone process',
      },
      ratio,
      goal: '≥ 1.0× its throughput',
      met: ratio >= 1.0,
      notes: [
        phaseNote,
        `Submit → Running (whole initialization, code and data staged): median ${(median(toRunning) / 1000).toFixed(2)} s.`,
      ],
      command: `npm run bench -- ${which === 'big' ? 'stage-big' : 'stage-small'}`,
    },
  ];
}
