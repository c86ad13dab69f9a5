import { spawn } from 'node:child_process';
import type { TrainingJob } from '@tc/contracts';
import { AGENT_NODE } from '../apps/server/src/engine/docker/agent-image.js';
import { BENCH_LABELS, BUCKET, type BenchEnv } from './lib/env.js';
import type { Row } from './lib/report-types.js';
import { deleteJob, expectSuccess, eventAt, jobRequest, logPage, stagingWindow, waitEnded } from './lib/server.js';
import { median, sleep } from './lib/stats.js';

/**
 * Submit → first log line of a demo-like image (busybox, USER 1101) with almost no code and data,
 * against `docker run` of the same image with the same limits → its first output line.
 */
export async function firstLog(env: BenchEnv): Promise<Row[]> {
  const s = await env.console();
  const boot = 'echo ready';

  const consoleRun = async (n: number): Promise<{ ms: number; stampMs: number; phases: Record<string, number> }> => {
    const t0 = Date.now();
    const p0 = performance.now();
    const job = await s.api<TrainingJob>(
      'POST',
      '/api/v1/training-jobs',
      jobRequest(`bench-first-${n}`, env.image, boot, `obs://${BUCKET}/tiny/`, `obs://${BUCKET}/out/first-${n}/`),
    );
    for (;;) {
      const page = await logPage(s, job, '', 100);
      const line = page.lines.find((l) => l.stream === 'stdout');
      if (line) {
        const ms = performance.now() - p0;
        const end = expectSuccess(await waitEnded(s, job));
        const created = Date.parse(end.createdAt);
        const staged = stagingWindow(end);
        const phases = {
          'submit → created': created - t0,
          'created → image checked': eventAt(end, 'image-check') - created,
          'image checked → staging starts (listing, signing, agent ready)': staged.from - eventAt(end, 'image-check'),
          'staging on the node (code and data)': staged.ms,
          'staged → started': eventAt(end, 'node-started') - staged.to,
          'started → line stamp': Date.parse(line.at) - eventAt(end, 'node-started'),
          'line stamp → seen by API poll': t0 + ms - Date.parse(line.at),
        };
        await deleteJob(s, job);
        return { ms, stampMs: Date.parse(line.at) - t0, phases };
      }
      await sleep(5);
    }
  };

  const dockerRun = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const labels = Object.entries(BENCH_LABELS).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
      const t0 = performance.now();
      const p = spawn(
        'docker',
        ['run', '--rm', ...labels, '--cpus', '1', '--memory', '2g', '--network', 'none', env.image, 'sh', '-c', boot],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let got = false;
      p.stdout.on('data', () => {
        if (got) return;
        got = true;
        resolve(performance.now() - t0);
      });
      p.on('exit', (code) => {
        if (!got) reject(new Error(`docker run exited with ${code} before printing`));
      });
    });

  // Warm up both paths once (image-check verdict, page cache, the engine's first create).
  await consoleRun(0);
  await dockerRun();

  /**
   * The least one node agent command costs: a `docker exec` of the agent's Node in its
   * container, started and run to its end (`node -e 0`), as the runner's exec is made.
   */
  const agent = env.docker.getContainer(await env.agentContainer(s));
  const bareExec = async (): Promise<number> => {
    const t0 = performance.now();
    const exec = await agent.exec({ Cmd: [AGENT_NODE, '-e', '0'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    const stream = await exec.start({ hijack: true, stdin: true });
    stream.resume();
    stream.end();
    await new Promise((r) => stream.once('close', r));
    return performance.now() - t0;
  };
  await bareExec();

  const reps = env.reps(7, 2);
  const ours: number[] = [];
  const stamps: number[] = [];
  const base: number[] = [];
  const phaseRuns: Record<string, number>[] = [];
  const execs: number[] = [];
  for (let i = 1; i <= reps; i++) {
    execs.push(await bareExec());
    base.push(await dockerRun());
    const r = await consoleRun(i);
    ours.push(r.ms);
    stamps.push(r.stampMs);
    phaseRuns.push(r.phases);
  }
  const phaseNames = Object.keys(phaseRuns[0] ?? {});
  const phaseText = phaseNames.map((k) => `${k} ${Math.round(median(phaseRuns.map((p) => p[k]!)))} ms`).join('; ');
  const ratio = median(ours) / median(base);
  return [
    {
      bench: 'first-log',
      title: 'submit → first log line, demo-like image, empty-ish data',
      console: {
        runs: ours,
        unit: 'ms',
        what: 'POST /training-jobs → the first stdout line returned by the logs API (polled every 5 ms)',
      },
      baseline: {
        name: '`docker run --rm --cpus 1 --memory 2g --network none` of the same image → first stdout line',
        runs: base,
        unit: 'ms',
        what: 'spawn of the docker CLI → first stdout byte',
      },
      ratio,
      goal: '≤ 1.3× the baseline’s time',
      met: ratio <= 1.3,
      notes: [
        `Median phases (from the job's events, ms resolution): ${phaseText}.`,
        `A bare node agent command (\`docker exec\` of the agent's Node with \`-e 0\` in its container, start to stream end): median ${Math.round(median(execs))} ms; staging is one such command.`,
        `Submit → the line's engine timestamp (excludes the API poll and the log batching): median ${Math.round(median(stamps))} ms, ${(median(stamps) / median(base)).toFixed(2)}× the baseline.`,
      ],
      command: 'npm run bench -- first-log',
    },
  ];
}
