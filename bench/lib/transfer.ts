import type { TrainingJob } from '@tc/contracts';
import { BUCKET, type BenchEnv } from './env.js';
import { containerCpuMs, dockerdPid, procCpuMs, procIo, Sampler } from './procs.js';
import { deleteJob, expectSuccess, jobRequest, waitEnded, type BenchServer } from './server.js';
import { median } from './stats.js';

/** CPU time (ms) each party spent over a transfer's window of `ms`. */
export interface NodeCpu {
  ms: number;
  agent: number;
  store: number;
  console: number;
  dockerd: number;
}

/**
 * Samples, every 100 ms, the CPU of the parties to a transfer on the node (the node agent's
 * container, the embedded store, the console, the engine) and the console's own I/O, for
 * reading back over the window between two of the job's events.
 */
export function nodeSampler(env: BenchEnv, s: BenchServer, agentId: string): Sampler {
  const dockerd = dockerdPid();
  const storePid = env.s3.pid;
  if (!storePid) throw new Error('the embedded store has no process');
  return new Sampler(() => {
    const io = procIo(s.pid);
    return {
      agent: containerCpuMs(agentId),
      store: procCpuMs(storePid),
      console: procCpuMs(s.pid),
      consoleIo: io.rchar + io.wchar,
      ...(dockerd ? { dockerd: procCpuMs(dockerd) } : {}),
    };
  });
}

/** One tiny job to completion: the node agent's image and container are ready after it. */
export async function warmUp(env: BenchEnv, s: BenchServer, name: string): Promise<void> {
  const job = await s.api<TrainingJob>(
    'POST',
    '/api/v1/training-jobs',
    jobRequest(name, env.image, 'echo warm', `obs://${BUCKET}/tiny/`, `obs://${BUCKET}/out/${name}/`),
  );
  await deleteJob(s, expectSuccess(await waitEnded(s, job)));
}

/** CPU seconds and cores over a window. */
function cores(cpuMs: number, ms: number): string {
  return `${(cpuMs / 1000).toFixed(1)} s (${(cpuMs / ms).toFixed(2)} cores)`;
}

/**
 * The report's note on who spent the CPU of a transfer (medians of our runs' windows) beside
 * rclone's run of the same transfer.
 */
export function cpuNote(
  window: 'staging' | 'upload',
  ours: readonly { cpu: NodeCpu }[],
  base: readonly { rcloneCpuMs: number; storeCpuMs: number; ms: number }[],
): string {
  const med = (f: (c: NodeCpu) => number): number => median(ours.map((o) => f(o.cpu)));
  const ms = med((c) => c.ms);
  const baseMs = median(base.map((b) => b.ms));
  return (
    `CPU over the ${window} window (medians; sampled every 100 ms, so the window is up to 0.2 s wider): ` +
    `node agent container ${cores(
      med((c) => c.agent),
      ms,
    )}, embedded store ${cores(
      med((c) => c.store),
      ms,
    )}, ` +
    `console ${cores(
      med((c) => c.console),
      ms,
    )}, dockerd ${cores(
      med((c) => c.dockerd),
      ms,
    )}. ` +
    `rclone's run: rclone ${cores(median(base.map((b) => b.rcloneCpuMs)), baseMs)}, embedded store ${cores(median(base.map((b) => b.storeCpuMs)), baseMs)}.`
  );
}
