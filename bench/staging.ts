import type { TrainingJob } from '@tc/contracts';
import { BUCKET, type BenchEnv } from './lib/env.js';
import { putDataset, rmrf, SHAPES, type Shape } from './lib/data.js';
import { procCpuMs, procIo, timeCommandCpu } from './lib/procs.js';
import type { Row } from './lib/report-types.js';
import {
  deleteJob,
  eventAt,
  expectSuccess,
  jobRequest,
  procStatusBytes,
  stagingWindow,
  waitEnded,
  waitStatus,
  type BenchServer,
} from './lib/server.js';
import { median, MiB } from './lib/stats.js';
import { cpuNote, nodeSampler, warmUp, type NodeCpu } from './lib/transfer.js';

/**
 * Staging on the job's node: the node agent GETs every object straight from the store into the
 * job's work folder with presigned URLs the console signed; the console only lists, signs and
 * reads progress. Timed by the job's own events (`download`, recorded when the nodes start, →
 * the later of `code-download` and `data-download`), against `rclone copy` of the same prefix to
 * local disk. The 1 GiB benchmark also measures the console's own I/O and peak RSS while a
 * node stages 2 GiB.
 */
export async function staging(env: BenchEnv, which: 'big' | 'small'): Promise<Row[]> {
  await env.requireRclone();
  const shape: Shape = SHAPES[which];
  const prefix = `stage/${which}/`;
  const bytes = shape.count * shape.size;
  process.stderr.write(`  generating ${shape.label} under s3://${BUCKET}/${prefix}\n`);
  await putDataset(env.store, BUCKET, prefix, shape);
  const s = await env.console();
  // The agent's image and container exist before the first timed run, as on a console in use.
  await warmUp(env, s, `bench-stage-${which}-warm`);
  const agentId = await env.agentContainer(s);

  interface Ours {
    mbps: number;
    /** Job created → staged: the listing and signing (which overlap the image check) included. */
    createdToStagedMs: number;
    /** Image checked → `download`: the part of listing and signing not hidden by the image check. */
    planAfterCheckMs: number;
    /** The console's CPU from the job's creation to `download` (listing, signing, image check). */
    planConsoleCpuMs: number;
    submitToRunningMs: number;
    cpu: NodeCpu;
    consoleIoBytes: number;
  }
  const consoleRun = async (n: number): Promise<Ours> => {
    const boot = `n=$(ls /home/work/data | wc -l); test "$n" -eq ${shape.count} || { echo "staged $n files" >&2; exit 1; }`;
    const sampler = nodeSampler(env, s, agentId).start();
    let end: TrainingJob;
    try {
      const job = await s.api<TrainingJob>(
        'POST',
        '/api/v1/training-jobs',
        jobRequest(`bench-stage-${which}-${n}`, env.image, boot, `obs://${BUCKET}/${prefix}`, `obs://${BUCKET}/out/stage-${which}-${n}/`),
      );
      end = expectSuccess(await waitEnded(s, job));
    } finally {
      sampler.stop();
    }
    const w = stagingWindow(end);
    const d = sampler.between(w.from, w.to);
    const created = eventAt(end, 'created');
    const plan = sampler.between(created, w.from);
    await deleteJob(s, end);
    return {
      mbps: bytes / MiB / (w.ms / 1000),
      createdToStagedMs: w.to - created,
      planAfterCheckMs: w.from - eventAt(end, 'image-check'),
      planConsoleCpuMs: plan.delta.console!,
      submitToRunningMs: Date.parse(end.startedAt ?? '') - Date.parse(end.createdAt),
      cpu: { ms: d.ms, agent: d.delta.agent!, store: d.delta.store!, console: d.delta.console!, dockerd: d.delta.dockerd ?? NaN },
      consoleIoBytes: d.delta.consoleIo!,
    };
  };
  const rcloneRun = async (): Promise<{ mbps: number; ms: number; rcloneCpuMs: number; storeCpuMs: number; listMs: number }> => {
    const dir = env.mkdtemp(`rclone-down-${which}`);
    try {
      const store0 = procCpuMs(env.s3.pid!);
      const r = await timeCommandCpu('rclone', ['copy', `bench:${BUCKET}/${prefix}`, dir], env.rcloneEnv());
      const storeCpuMs = procCpuMs(env.s3.pid!) - store0;
      // The store's listing alone, as a client sees it: the floor of any copy that lists first.
      const list = await timeCommandCpu('rclone', ['lsf', '--files-only', `bench:${BUCKET}/${prefix}`], env.rcloneEnv());
      return { mbps: bytes / MiB / (r.ms / 1000), ms: r.ms, rcloneCpuMs: r.cpuMs, storeCpuMs, listMs: list.ms };
    } finally {
      rmrf(dir);
    }
  };

  const reps = env.reps(3, 1);
  const ours: Ours[] = [];
  const base: Awaited<ReturnType<typeof rcloneRun>>[] = [];
  for (let i = 1; i <= reps; i++) {
    base.push(await rcloneRun());
    ours.push(await consoleRun(i));
  }
  const med = (f: (o: Ours) => number): number => median(ours.map(f));
  const ratio = med((o) => o.mbps) / median(base.map((b) => b.mbps));
  const withPlan = ours.map((o) => bytes / MiB / (o.createdToStagedMs / 1000));
  const withPlanRatio = median(withPlan) / median(base.map((b) => b.mbps));
  const bench = which === 'big' ? 'stage-big' : 'stage-small';
  const rows: Row[] = [
    {
      bench,
      title: `stage ${which === 'big' ? '1 GiB as 100 × 10 MiB' : '10,000 × 4 KiB files'} on the job's node`,
      console: {
        runs: ours.map((o) => o.mbps),
        unit: 'MiB/s',
        what: "dataset size ÷ (the later of the code-download and data-download events − the download event): the node agent's `docker exec`, then a GET of every object with its presigned URL straight into the work folder (16 at once), code and data from one pool",
      },
      baseline: {
        name: `\`rclone copy bench:${BUCKET}/${prefix} <local dir>\` (rclone defaults: 4 transfers, 8 checkers)`,
        runs: base.map((b) => b.mbps),
        unit: 'MiB/s',
        what: 'dataset size ÷ wall time of the rclone process (its listing included)',
      },
      ratio,
      goal: '≥ 1.0× its throughput',
      met: ratio >= 1.0,
      notes: [
        `Submit → Running: median ${(med((o) => o.submitToRunningMs) / 1000).toFixed(2)} s.`,
        cpuNote('staging', ours, base),

        `The console's own reads and writes (rchar + wchar of /proc/<pid>/io) over the same window: median ${(med((o) => o.consoleIoBytes) / 1e6).toFixed(2)} MB, ${((med((o) => o.consoleIoBytes) / bytes) * 100).toFixed(2)} % of the bytes staged.`,
      ],
      command: `npm run bench -- ${bench}`,
    },
    {
      bench,
      title: `stage ${which === 'big' ? '1 GiB as 100 × 10 MiB' : '10,000 × 4 KiB files'} on the job's node, listing and signing included`,
      console: {
        runs: withPlan,
        unit: 'MiB/s',
        what: "dataset size ÷ (the later of the code-download and data-download events − the job's created event): the row above plus what the console does before the download event, the listing of the prefix and a presigned GET per object (beside the image check, which takes tens of ms here)",
      },
      baseline: {
        name: 'the same rclone runs as the row above',
        runs: base.map((b) => b.mbps),
        unit: 'MiB/s',
        what: 'dataset size ÷ wall time of the rclone process, which lists the prefix too',
      },
      ratio: withPlanRatio,
      goal: '≥ 1.0× its throughput',
      met: withPlanRatio >= 1.0,
      notes: [
        `Image checked → download event (the listing and signing left once the image check is done): median ${Math.round(med((o) => o.planAfterCheckMs))} ms; the console's CPU from the job's creation to the download event: median ${(med((o) => o.planConsoleCpuMs) / 1000).toFixed(2)} s. The store's listing of the prefix alone (\`rclone lsf --files-only\`, after each rclone copy): median ${(median(base.map((b) => b.listMs)) / 1000).toFixed(2)} s.`,
      ],
      command: `npm run bench -- ${bench}`,
    },
  ];
  if (which === 'big') rows.push(...(await consoleWhileStaging(env)));
  return rows;
}

/**
 * The console's own I/O and peak RSS while a node stages 2 GiB: a fresh console per run (so its
 * VmHWM is this run's), one warm-up job (the agent made ready), then the measured job.
 */
async function consoleWhileStaging(env: BenchEnv): Promise<Row[]> {
  const shape: Shape = env.quick
    ? { label: '4 × 128 MiB', count: 4, size: 128 * MiB }
    : { label: '8 × 256 MiB', count: 8, size: 256 * MiB };
  const prefix = `stage/io-${shape.count}/`;
  const bytes = shape.count * shape.size;
  process.stderr.write(`  generating ${shape.label} under s3://${BUCKET}/${prefix}\n`);
  await putDataset(env.store, BUCKET, prefix, shape);

  const reps = env.reps(3, 1);
  const share: number[] = [];
  const moved: { r: number; w: number }[] = [];
  const peaks: number[] = [];
  const idle: number[] = [];
  const afterWarm: number[] = [];
  const rates: number[] = [];
  for (let i = 1; i <= reps; i++) {
    const s: BenchServer = await env.freshConsole('io');
    try {
      idle.push(procStatusBytes(s.pid, 'VmHWM') / MiB);
      await warmUp(env, s, `bench-io-warm-${i}`);
      afterWarm.push(procStatusBytes(s.pid, 'VmHWM') / MiB);
      // The job sleeps a little once staged, so that it is seen Running, not already ended.
      const boot = `n=$(ls /home/work/data | wc -l); test "$n" -eq ${shape.count} || { echo "staged $n files" >&2; exit 1; }; sleep 3`;
      const io0 = procIo(s.pid);
      const job = await s.api<TrainingJob>(
        'POST',
        '/api/v1/training-jobs',
        jobRequest(`bench-io-${i}`, env.image, boot, `obs://${BUCKET}/${prefix}`, `obs://${BUCKET}/out/io-${i}/`),
      );
      const running = await waitStatus(s, job, ['Running']);
      const io1 = procIo(s.pid);
      const hwm = procStatusBytes(s.pid, 'VmHWM') / MiB;
      if (running.status !== 'Running') throw new Error(`${job.name} was ${running.status} at the first look after staging, not Running`);
      const end = expectSuccess(await waitEnded(s, job));
      const r = io1.rchar - io0.rchar;
      const w = io1.wchar - io0.wchar;
      moved.push({ r, w });
      share.push(((r + w) / bytes) * 100);
      peaks.push(hwm);
      rates.push(bytes / MiB / (stagingWindow(end).ms / 1000));
      await deleteJob(s, end);
    } finally {
      await s.stop();
    }
  }
  const gb = (bytes / 1e9).toFixed(2);
  const size = bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(1)} GiB` : `${bytes / MiB} MiB`;
  const mb = (x: number): string => (x / 1e6).toFixed(2);
  const peakMB = (median(peaks) * MiB) / 1e6;
  return [
    {
      bench: 'stage-big',
      title: `console's own I/O while a node stages ${size} (${shape.label})`,
      console: {
        runs: share,
        unit: '% of the bytes staged',
        what: `(rchar + wchar) of /proc/<console pid>/io, read just before POST /training-jobs and just after the first look that finds the job Running (polled every 50 ms through the API, those polls included), ÷ the ${gb} GB staged`,
      },
      baseline: null,
      ratio: null,
      goal: '< 5 %',
      met: median(share) < 5,
      notes: [
        `Per run, read + written by the console: ${moved.map((m) => `${mb(m.r)} + ${mb(m.w)} MB`).join('; ')} (1 MB = 10^6 bytes). The window holds the whole initialization (image check, listing, signing, the agent's command and its progress, container creation and start) of a fresh console process that has run one warm-up job.`,
        `Staging ran at a median ${median(rates).toFixed(0)} MiB/s on the node in these runs.`,
      ],
      command: 'npm run bench -- stage-big',
    },
    {
      bench: 'stage-big',
      title: `console peak RSS while a node stages ${size} (${shape.label})`,
      console: {
        runs: peaks,
        unit: 'MiB',
        what: 'VmHWM of /proc/<console pid>/status (node --import tsx main.ts, a fresh process per run) read just after the job is seen Running',
      },
      baseline: null,
      ratio: null,
      goal: '< 250 MB',
      met: peakMB < 250,
      notes: [
        `The same processes just after start-up: median ${median(idle).toFixed(0)} MiB; after the warm-up job: median ${median(afterWarm).toFixed(0)} MiB. The goal's MB are 10^6 bytes: the median is ${peakMB.toFixed(0)} MB.`,
      ],
      command: 'npm run bench -- stage-big',
    },
  ];
}
