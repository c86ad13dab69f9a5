import type { TrainingJob } from '@tc/contracts';
import { BUCKET, type BenchEnv } from './lib/env.js';
import { countPrefix, rmrf, SHAPES, writeLocalDataset, type Shape } from './lib/data.js';
import { procCpuMs, timeCommandCpu } from './lib/procs.js';
import type { Row } from './lib/report-types.js';
import { deleteJob, eventAt, expectSuccess, jobRequest, waitEnded } from './lib/server.js';
import { median, MiB } from './lib/stats.js';
import { cpuNote, nodeSampler, warmUp, type NodeCpu } from './lib/transfer.js';

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
 * Output upload from the job's node: after the container exits, the node agent lists
 * /home/work/outputs in the job's work folder, the console signs a PUT per file, and the agent
 * sends the files straight to the store (8 at once). Timed by the job's events (the last node
 * exited → outputs uploaded), against `rclone copy` of the same shape from local disk.
 */
export async function upload(env: BenchEnv): Promise<Row[]> {
  await env.requireRclone();
  const s = await env.console();
  await warmUp(env, s, 'bench-upload-warm');
  const agentId = await env.agentContainer(s);
  const rows: Row[] = [];
  for (const which of ['big', 'small'] as const) {
    const shape: Shape = SHAPES[which];
    const bytes = shape.count * shape.size;
    const local = env.mkdtemp(`local-${which}`);
    process.stderr.write(`  writing ${shape.label} to ${local}\n`);
    await writeLocalDataset(local, shape);

    const consoleRun = async (n: number): Promise<{ mbps: number; cpu: NodeCpu; consoleIo: number }> => {
      const out = `out/upload-${which}-${n}/`;
      const sampler = nodeSampler(env, s, agentId).start();
      let end: TrainingJob;
      try {
        const job = await s.api<TrainingJob>(
          'POST',
          '/api/v1/training-jobs',
          jobRequest(`bench-upload-${which}-${n}`, env.image, writer(which), `obs://${BUCKET}/tiny/`, `obs://${BUCKET}/${out}`),
        );
        end = expectSuccess(await waitEnded(s, job));
      } finally {
        sampler.stop();
      }
      const from = eventAt(end, 'node-exited', true);
      const to = eventAt(end, 'output-upload');
      const d = sampler.between(from, to);
      const got = await countPrefix(env.store, BUCKET, out);
      if (got.files !== shape.count || got.bytes !== bytes) throw new Error(`${end.name}: uploaded ${got.files} files, ${got.bytes} bytes`);
      await deleteJob(s, end);
      return {
        mbps: bytes / MiB / ((to - from) / 1000),
        cpu: { ms: d.ms, agent: d.delta.agent!, store: d.delta.store!, console: d.delta.console!, dockerd: d.delta.dockerd ?? NaN },
        consoleIo: d.delta.consoleIo!,
      };
    };
    const rcloneRun = async (n: number): Promise<{ mbps: number; ms: number; rcloneCpuMs: number; storeCpuMs: number }> => {
      const dest = `rclone-up/${which}-${n}/`;
      const store0 = procCpuMs(env.s3.pid!);
      const r = await timeCommandCpu('rclone', ['copy', local, `bench:${BUCKET}/${dest}`], env.rcloneEnv());
      const storeCpuMs = procCpuMs(env.s3.pid!) - store0;
      const got = await countPrefix(env.store, BUCKET, dest);
      if (got.files !== shape.count) throw new Error(`rclone uploaded ${got.files} files`);
      return { mbps: bytes / MiB / (r.ms / 1000), ms: r.ms, rcloneCpuMs: r.cpuMs, storeCpuMs };
    };

    try {
      const reps = env.reps(3, 1);
      const ours: Awaited<ReturnType<typeof consoleRun>>[] = [];
      const base: Awaited<ReturnType<typeof rcloneRun>>[] = [];
      for (let i = 1; i <= reps; i++) {
        base.push(await rcloneRun(i));
        ours.push(await consoleRun(i));
      }
      const med = (f: (o: (typeof ours)[number]) => number): number => median(ours.map(f));
      const ratio = med((o) => o.mbps) / median(base.map((b) => b.mbps));
      rows.push({
        bench: 'upload',
        title: `upload outputs, ${shape.label} (the job writes them to /home/work/outputs)`,
        console: {
          runs: ours.map((o) => o.mbps),
          unit: 'MiB/s',
          what: "outputs size ÷ (output-upload event − the last node-exited event): the agent's scan of the outputs folder, a presigned PUT per file signed by the console, the agent's uploads from the work folder (8 at once)",
        },
        baseline: {
          name: `\`rclone copy <local dir> bench:${BUCKET}/<prefix>\` of the same shape (rclone defaults: 4 transfers)`,
          runs: base.map((b) => b.mbps),
          unit: 'MiB/s',
          what: 'outputs size ÷ wall time of the rclone process',
        },
        ratio,
        goal: '≥ 1.0× its throughput',
        met: ratio >= 1.0,
        notes: [
          cpuNote('upload', ours, base),

          `The console's own reads and writes (rchar + wchar of /proc/<pid>/io) over the same window: median ${(med((o) => o.consoleIo) / 1e6).toFixed(2)} MB, ${((med((o) => o.consoleIo) / bytes) * 100).toFixed(2)} % of the bytes uploaded.`,
        ],
        command: 'npm run bench -- upload',
      });
    } finally {
      rmrf(local);
    }
  }
  return rows;
}
