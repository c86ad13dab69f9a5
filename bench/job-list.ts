import http from 'node:http';
import path from 'node:path';
import { CreateTrainingJobRequest, type JobStatus, type TrainingJobList } from '@tc/contracts';
import { openDatabase } from '../apps/server/src/db/database.js';
import { JobRepository } from '../apps/server/src/jobs/job-repository.js';
import { nodeHostnames } from '../apps/server/src/engine/job-env.js';
import { BUCKET, type BenchEnv } from './lib/env.js';
import type { Row } from './lib/report-types.js';
import { median, percentile, sleep } from './lib/stats.js';

const JOBS = 10_000;
const POLLERS = 50;
const ENDED: JobStatus[] = ['Successful', 'Successful', 'Successful', 'Running failed', 'Stopped'];

/** 10,000 ended jobs (2,000 names × 5 versions) written through the server's own JobRepository. */
function seed(dataDir: string, image: string): void {
  const db = openDatabase(path.join(dataDir, 'console.db'));
  try {
    const jobs = new JobRepository(db);
    const seedAll = db.transaction(() => {
      for (let i = 0; i < JOBS; i++) {
        const name = `bench-list-${String(i % 2000).padStart(4, '0')}`;
        const spec = CreateTrainingJobRequest.parse({
          name,
          description: `seeded job ${i}`,
          algorithm: { source: 'custom', imagePath: image, codeDir: `obs://${BUCKET}/code/`, bootCommand: 'sh train.sh' },
          data: { source: 'path', path: `obs://${BUCKET}/tiny/` },
          trainOutput: `obs://${BUCKET}/out/${name}/`,
          env: [{ name: 'EPOCHS', value: '20' }],
          logPath: `obs://${BUCKET}/logs/`,
        });
        const created = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
        const job = jobs.createWithNextVersion({
          name,
          description: spec.description ?? null,
          spec,
          poolId: 'public',
          flavorId: 'cpu.1u2g',
          nodeCount: 1,
          hostnames: (v) => nodeHostnames(name, v, 1),
          createdAt: created,
          ownerId: 1,
        });
        const to = ENDED[i % ENDED.length]!;
        jobs.transition(job.id, 'Queuing', to, {
          startedAt: created,
          endedAt: new Date(Date.parse(created) + 30_000).toISOString(),
          ...(to === 'Running failed' ? { reason: 'training failed: boot command exited with code 1' } : {}),
        });
      }
    });
    seedAll();
  } finally {
    db.close();
  }
}

/** One GET over a keep-alive agent; resolves with the latency in ms. */
function get(agent: http.Agent, base: URL, token: string, pathAndQuery: string): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(
      { host: base.hostname, port: base.port, path: pathAndQuery, agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

interface PollResult {
  latencies: number[];
  durationS: number;
}

/** `pollers` loops, each issuing its next request when the last one answered (or after `pauseMs`). */
async function poll(base: URL, token: string, seconds: number, pauseMs: number): Promise<PollResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: POLLERS });
  const latencies: number[] = [];
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  // The console's own list asks for one row per name (latest=true); scripts page through every version.
  const paths = [
    '/api/v1/training-jobs?latest=true',
    '/api/v1/training-jobs',
    '/api/v1/training-jobs?page=2',
    '/api/v1/training-jobs?status=Running%20failed',
  ];
  try {
    await Promise.all(
      Array.from({ length: POLLERS }, async (_, p) => {
        // Spread the first requests of paced pollers over one pause, as real browsers would be.
        if (pauseMs) await sleep((p * pauseMs) / POLLERS);
        let n = p;
        while (performance.now() < until) {
          const r = await get(agent, base, token, paths[n++ % paths.length]!);
          if (r.status !== 200) throw new Error(`job list answered ${r.status}: ${r.body.slice(0, 200)}`);
          latencies.push(r.ms);
          if (pauseMs) await sleep(pauseMs);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { latencies, durationS: (performance.now() - t0) / 1000 };
}

/**
 * The job list over 10,000 jobs with 50 concurrent pollers, each asking again as soon as it has
 * its answer (closed loop: the worst case), and, for reference, at the web console's own pace
 * (every 2 s).
 */
export async function jobList(env: BenchEnv): Promise<Row[]> {
  const s = await env.freshConsole('job-list', (dir) => seed(dir, env.image));
  try {
    const base = new URL(s.base);
    const first = JSON.parse((await get(new http.Agent(), base, s.token, '/api/v1/training-jobs')).body) as TrainingJobList;
    if (first.total !== JOBS) throw new Error(`the list reports ${first.total} jobs, not ${JOBS}`);
    await poll(base, s.token, 2, 0); // warm-up
    const reps = env.reps(3, 1);
    const seconds = env.quick ? 5 : 10;
    const p95s: number[] = [];
    const p50s: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < reps; i++) {
      const r = await poll(base, s.token, seconds, 0);
      p95s.push(percentile(r.latencies, 95));
      p50s.push(percentile(r.latencies, 50));
      rates.push(r.latencies.length / r.durationS);
    }
    const paced = await poll(base, s.token, env.quick ? 6 : 12, 2000);
    return [
      {
        bench: 'job-list',
        title: 'job list with 10,000 jobs, 50 concurrent pollers',
        console: {
          runs: p95s,
          unit: 'ms (p95)',
          what: `p95 latency of GET /api/v1/training-jobs (the console's latest-per-name list, pages 1 and 2 of every version, and a status filter; 20 per page) with ${POLLERS} closed-loop pollers for ${seconds} s, over keep-alive HTTP`,
        },
        baseline: null,
        ratio: null,
        goal: 'p95 < 50 ms',
        met: median(p95s) < 50,
        notes: [
          `Closed loop: median latency ${median(p50s).toFixed(1)} ms, throughput ${Math.round(median(rates))} requests/s (the pollers run in the bench process, on the same 2 cores).`,
          `Paced like the web console (each of the 50 pollers every 2 s): p95 ${percentile(paced.latencies, 95).toFixed(1)} ms, p50 ${percentile(paced.latencies, 50).toFixed(1)} ms over ${paced.latencies.length} requests.`,
        ],
        command: 'npm run bench -- job-list',
      },
    ];
  } finally {
    await s.stop();
  }
}
