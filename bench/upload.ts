import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { TrainingJob } from '@tc/contracts';
import { uploadOutputs } from '../apps/server/src/engine/output-upload.js';
import { BUCKET, type BenchEnv } from './lib/env.js';
import { countPrefix, rmrf, SHAPES, timeCommand, writeLocalDataset, type Shape } from './lib/data.js';
import type { Row } from './lib/report-types.js';
import { deleteJob, eventAt, expectSuccess, jobRequest, waitEnded } from './lib/server.js';
import { median, MiB } from './lib/stats.js';

/** Boot commands that write the shape into /home/work/outputs with busybox builtins mostly. */
function writer(which: 'big' | 'small'): string {
  if (which === 'big') {
    return [
      'cd /home/work/outputs',
      'head -c 10485760 /dev/urandom > f0.bin',
      'i=1; while [ $i -lt 100 ]; do cp f0.bin f$i.bin; i=$((i + 1)); done',
    ].join(' && ');
  }
  // 3072 random bytes → 4096 base64 characters, written with the shell's printf builtin.
  return [
    'cd /home/work/outputs',
    's=$(head -c 3072 /dev/urandom | base64 -w 0)',
    'i=0; while [ $i -lt 10000 ]; do printf %s "$s" > f$i.bin; i=$((i + 1)); done',
  ].join(' && ');
}

/**
 * Output upload (Docker archive of /home/work/outputs → tar extract → multipart uploads), timed by
 * the job's events (node exited → outputs uploaded), against `rclone copy` of the same shape from
 * local disk to the store.
 */
export async function upload(env: BenchEnv): Promise<Row[]> {
  const s = await env.console();
  const rows: Row[] = [];
  for (const which of ['big', 'small'] as const) {
    const shape: Shape = SHAPES[which];
    const bytes = shape.count * shape.size;
    const local = env.mkdtemp(`local-${which}`);
    process.stderr.write(`  writing ${shape.label} to ${local}\n`);
    await writeLocalDataset(local, shape);

    const consoleRun = async (n: number): Promise<number> => {
      const out = `out/upload-${which}-${n}/`;
      const job = await s.api<TrainingJob>(
        'POST',
        '/api/v1/training-jobs',
        jobRequest(`bench-upload-${which}-${n}`, env.image, writer(which), `obs://${BUCKET}/tiny/`, `obs://${BUCKET}/${out}`),
      );
      const end = expectSuccess(await waitEnded(s, job));
      const ms = eventAt(end, 'output-upload') - eventAt(end, 'node-exited', true);
      const got = await countPrefix(env.store, BUCKET, out);
      if (got.files !== shape.count || got.bytes !== bytes) throw new Error(`${job.name}: uploaded ${got.files} files, ${got.bytes} bytes`);
      await deleteJob(s, job);
      return bytes / MiB / (ms / 1000);
    };
    const rcloneRun = async (n: number): Promise<number> => {
      const dest = `rclone-up/${which}-${n}/`;
      const ms = await timeCommand('rclone', ['copy', local, `bench:${BUCKET}/${dest}`], env.rcloneEnv());
      const got = await countPrefix(env.store, BUCKET, dest);
      if (got.files !== shape.count) throw new Error(`rclone uploaded ${got.files} files`);
      return bytes / MiB / (ms / 1000);
    };

    /**
     * The two halves apart, once: the engine's archive of the outputs folder into a local file,
     * and the server's uploadOutputs from that file into the store.
     */
    const phases = async (): Promise<string> => {
      const dir = env.mkdtemp(`outputs-tar-${which}`);
      const file = path.join(dir, 'outputs.tar');
      const c = await env.docker.createContainer({
        Image: env.image,
        User: '0',
        Cmd: ['sh', '-c', `mkdir -p /home/work/outputs && ${writer(which)}`],
        NetworkDisabled: true,
      });
      try {
        await c.start();
        await c.wait();
        let t0 = performance.now();
        const archive = await c.getArchive({ path: '/home/work/outputs' });
        await pipeline(archive, createWriteStream(file));
        const engineMs = performance.now() - t0;
        t0 = performance.now();
        await uploadOutputs(createReadStream(file), env.store, BUCKET, `phase-up/${which}/`);
        const storeMs = performance.now() - t0;
        const mb = (ms: number) => (bytes / MiB / (ms / 1000)).toFixed(1);
        return `Halves measured apart (once): the engine's archive of /home/work/outputs (${(statSync(file).size / MiB).toFixed(0)} MiB tar) to local disk alone ${mb(engineMs)} MiB/s (${(engineMs / 1000).toFixed(1)} s); the server's uploadOutputs from that file into the store alone ${mb(storeMs)} MiB/s (${(storeMs / 1000).toFixed(1)} s).`;
      } finally {
        await c.remove({ force: true });
        rmrf(dir);
      }
    };

    try {
      const phaseNote = await phases();
      const reps = env.reps(3, 1);
      const ours: number[] = [];
      const base: number[] = [];
      for (let i = 1; i <= reps; i++) {
        base.push(await rcloneRun(i));
        ours.push(await consoleRun(i));
      }
      const ratio = median(ours) / median(base);
      rows.push({
        bench: 'upload',
        title: `upload outputs, ${shape.label} (the job writes them to /home/work/outputs)`,
        console: {
          runs: ours,
          unit: 'MiB/s',
          what: 'outputs size ÷ (output-upload event − node-exited event): GET archive, untar, one upload per file',
        },
        baseline: {
          name: `\`rclone copy <local dir> bench:${BUCKET}/<prefix>\` of the same shape (rclone defaults: 4 transfers)`,
          runs: base,
          unit: 'MiB/s',
          what: 'outputs size ÷ wall time of the rclone process',
        },
        ratio,
        goal: '≥ 1.0× its throughput',
        met: ratio >= 1.0,
        notes: [phaseNote],
        command: 'npm run bench -- upload',
      });
    } finally {
      rmrf(local);
    }
  }
  return rows;
}
