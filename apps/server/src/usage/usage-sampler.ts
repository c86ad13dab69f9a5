import type { ContainerEngine } from '../engine/container-engine.js';
import { ContainerGoneError } from '../engine/container-engine.js';
import type { JobRepository } from '../jobs/job-repository.js';
import type { UsageRepository } from './usage-repository.js';

export interface UsageSamplerDeps {
  jobs: Pick<JobRepository, 'listByStatus' | 'nodes'>;
  engine: Pick<ContainerEngine, 'stats'>;
  usage: Pick<UsageRepository, 'add'>;
  intervalMs: number;
  /** Engine calls in flight at once: a large job's nodes must not queue up the engine. */
  concurrency?: number;
  log: { warn(obj: object, msg: string): void };
}

/**
 * Every `intervalMs`, one stats reading of each running node of the Running jobs, stored through
 * UsageRepository. A round starts only after the last one ended (a slow engine stretches the
 * step instead of piling up calls); a failure is logged and the loop carries on, so sampling
 * never disturbs a job or the API. It reads Running jobs only: an ended job costs it nothing.
 */
export class UsageSampler {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = true;
  /** Warned once per container, so an engine that keeps failing does not flood the log. */
  private readonly warned = new Set<string>();

  constructor(private readonly d: UsageSamplerDeps) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.d.intervalMs);
  }

  /** Stops the loop and waits for a round in flight (bounded by the engine's call deadline). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.round = this.sampleOnce()
        .catch((err: unknown) => this.d.log.warn({ err }, 'usage sampling round failed'))
        .finally(() => {
          this.round = null;
          this.schedule(Math.max(0, this.d.intervalMs - (Date.now() - started)));
        });
    }, ms);
    this.timer.unref();
  }

  /** One round over every running node; exposed for tests. */
  async sampleOnce(): Promise<void> {
    const targets: { jobId: number; node: number; containerId: string }[] = [];
    for (const job of this.d.jobs.listByStatus(['Running'])) {
      for (const n of this.d.jobs.nodes(job.id)) {
        if (n.containerId && n.state === 'running') targets.push({ jobId: job.id, node: n.index, containerId: n.containerId });
      }
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.stopped) {
        const t = targets[next++]!;
        try {
          const s = await this.d.engine.stats(t.containerId);
          if (s) this.d.usage.add(t.jobId, t.node, s);
          this.warned.delete(t.containerId);
        } catch (err) {
          // A node that just ended is removed by the runner; nothing to record, nothing to say.
          if (err instanceof ContainerGoneError || this.warned.has(t.containerId)) continue;
          this.warned.add(t.containerId);
          this.d.log.warn({ err, jobId: t.jobId, node: t.node }, 'reading a node’s resource usage failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.d.concurrency ?? 4, targets.length) }, worker));
    // Forget containers that are no longer sampled.
    if (this.warned.size) {
      const live = new Set(targets.map((t) => t.containerId));
      for (const id of this.warned) if (!live.has(id)) this.warned.delete(id);
    }
  }
}
