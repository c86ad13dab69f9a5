import type { TrainingJob } from '@tc/contracts';
import { BUCKET, type BenchEnv } from './env.js';
import { containerCpuMs, dockerdPid, procCpuMs, procIo, Sampler } from './procs.js';
import { deleteJob, expectSuccess, jobRequest, waitEnded, type BenchServer } from './server.js';

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
