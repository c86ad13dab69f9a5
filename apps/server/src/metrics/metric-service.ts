import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { isTerminal, parseObjectPath, type JobMetrics, type MetricDefinition, type MetricSeries } from '@tc/contracts';
import type { JobRepository } from '../jobs/job-repository.js';
import type { LogRepository, StoredLogLine } from '../engine/log-repository.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ObjectStoreError } from '../storage/object-store.js';
import { NotFoundError } from '../errors.js';
import { EventType, type JobRecord } from '../jobs/job.js';
import { parseVersion } from '../jobs/version.js';
import { canAccess, type Actor } from '../accounts/actor.js';
import { compileDefinitions, parseJsonl, parseLine, type CompiledDefinitions } from './parse.js';
import type { MetricRepository, MetricSource, NewMetricPoint } from './metric-repository.js';

export const MAX_POINTS_PER_JOB = 100_000;
export const MAX_SERIES_PER_JOB = 50;
/** The most of a metrics.jsonl read; the rest is left out with a warning. */
export const MAX_JSONL_BYTES = 16 * 1024 * 1024;
export const METRICS_FILE = 'metrics.jsonl';
/** Log lines read per query when a job's log is parsed again. */
const REPARSE_PAGE = 2000;

export interface MetricServiceDeps {
  metrics: MetricRepository;
  jobs: Pick<JobRepository, 'get' | 'getById' | 'addEvent' | 'onTransition'>;
  logs: Pick<LogRepository, 'page' | 'lastSeq' | 'onEveryAppend'>;
  store: Pick<ObjectStore, 'getStream'>;
  maxPoints?: number;
  maxSeries?: number;
  log?: { warn(obj: object, msg: string): void };
}

/** What the service keeps of a job while its lines come in. */
interface JobState {
  compiled: CompiledDefinitions;
  points: number;
  series: Set<string>;
  /** Names a metrics.jsonl gave: the log's values of these names are not stored. */
  fileNames: Set<string>;
  /** Whether the limits were reached (and said so once). */
  full: boolean;
  /** Per node, the last seq a re-parse reads itself: live lines up to it are its business. */
  floor: Map<number, number>;
}

/**
 * Metrics of jobs: read from each log line as it is stored (the defined regexes, then default
 * `name=value` pairs), and from `<Training Output Path>/metrics.jsonl` once the job has ended,
 * whose names take precedence over the log's. Bounded per job in points and series.
 */
export class MetricService {
  private readonly states = new Map<number, JobState>();
  private pending: { jobId: number; node: number; lines: readonly StoredLogLine[] }[] = [];
  private readonly maxPoints: number;
  private readonly maxSeries: number;
  /** Work in flight (file imports, re-parses), so tests and shutdown can wait for it. */
  private readonly busy = new Set<Promise<unknown>>();

  constructor(private readonly d: MetricServiceDeps) {
    this.maxPoints = d.maxPoints ?? MAX_POINTS_PER_JOB;
    this.maxSeries = d.maxSeries ?? MAX_SERIES_PER_JOB;
    // Both run inside their writers' transactions: note the work here, do it after.
    d.logs.onEveryAppend((jobId, node, lines) => {
      if (this.pending.length === 0) queueMicrotask(() => this.drain());
      this.pending.push({ jobId, node, lines });
    });
    d.jobs.onTransition((t) => {
      if (!isTerminal(t.to)) return;
      const job = t.job;
      // Then the job's state is forgotten: an ended job gets no new lines (a late one reloads it).
      // Tracked now, started after the transaction: a close right after the job ends (which may
      // come before the next turn of the event loop) still waits for the file to be read.
      const after = new Promise<void>((resolve) => setImmediate(resolve));
      void this.track(after.then(() => this.importFile(job)).finally(() => this.states.delete(job.id))).catch(() => undefined);
    });
  }

  /** Resolves once the file imports and re-parses started so far are done. */
  async idle(): Promise<void> {
    while (this.busy.size) await Promise.allSettled([...this.busy]);
  }

  get(actor: Actor, name: string, version: string): JobMetrics {
    const job = this.find(actor, name, version);
    const series: MetricSeries[] = [];
    let cur: MetricSeries | null = null;
    for (const p of this.d.metrics.all(job.id)) {
      if (!cur || cur.name !== p.name || cur.node !== p.node) {
        cur = { name: p.name, node: p.node, points: [] };
        series.push(cur);
      }
      cur.points.push(p.step === null ? { at: p.at, value: p.value } : { step: p.step, at: p.at, value: p.value });
    }
    return { series };
  }

  /** The points as CSV (`name,node,step,at,value`), a page at a time. */
  csv(actor: Actor, name: string, version: string): { filename: string; body: AsyncGenerator<string> } {
    const job = this.find(actor, name, version);
    const metrics = this.d.metrics;
    async function* body(): AsyncGenerator<string> {
      yield 'name,node,step,at,value\n';
      let after = null;
      for (;;) {
        const rows = metrics.pageAfter(job.id, after, 2000);
        if (rows.length === 0) return;
        // Names are limited to [A-Za-z0-9_.:/-]: nothing to quote.
        yield rows.map((r) => `${r.name},${r.node},${r.step ?? ''},${r.at},${r.value}\n`).join('');
        after = rows[rows.length - 1]!;
      }
    }
    return { filename: `${job.name}-${job.version}-metrics.csv`, body: body() };
  }

  /** New definitions for a job version; its stored log is read again with them (no rerun). */
  async define(actor: Actor, name: string, version: string, defs: readonly MetricDefinition[]): Promise<JobMetrics> {
    const job = this.find(actor, name, version);
    this.d.metrics.setDefinitions(job.id, defs);
    await this.track(this.reparse(job.id, defs));
    return this.get(actor, name, version);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const guarded = p.catch((err: unknown) => {
      this.d.log?.warn({ err }, 'metrics: could not be read');
      throw err;
    });
    const settled = guarded.then(
      () => undefined,
      () => undefined,
    );
    this.busy.add(settled);
    void settled.finally(() => this.busy.delete(settled));
    return guarded;
  }

  private find(actor: Actor, name: string, version: string): JobRecord {
    const n = parseVersion(version);
    const job = n === null ? null : this.d.jobs.get(name, n);
    if (!job || !canAccess(actor, job.ownerId)) throw new NotFoundError(`training job ${name} ${version} does not exist`);
    return job;
  }

  private state(jobId: number): JobState | null {
    const known = this.states.get(jobId);
    if (known) return known;
    const job = this.d.jobs.getById(jobId);
    if (!job) return null;
    const s = this.d.metrics.summary(jobId);
    const state: JobState = {
      compiled: compileDefinitions(job.spec.metrics),
      points: s.points,
      series: new Set(s.series.map((x) => `${x.name}\u0000${x.node}`)),
      fileNames: new Set(s.fileNames),
      // A job at the limit said so when it got there (before a restart, perhaps).
      full: s.points >= this.maxPoints,
      floor: new Map(),
    };
    this.states.set(jobId, state);
    return state;
  }

  private drain(): void {
    const batches = this.pending;
    this.pending = [];
    for (const b of batches) {
      try {
        const st = this.state(b.jobId);
        // At the limit (and said so) nothing more is stored: the lines need not be read.
        if (!st || (st.full && st.points >= this.maxPoints)) continue;
        const floor = st.floor.get(b.node) ?? 0;
        const points = this.parseLines(
          st,
          b.node,
          b.lines.filter((l) => l.seq > floor),
        );
        this.store(b.jobId, st, 'log', points);
      } catch (err) {
        this.d.log?.warn({ err, jobId: b.jobId }, 'metrics: could not read log lines');
      }
    }
  }

  private parseLines(st: JobState, node: number, lines: readonly StoredLogLine[]): NewMetricPoint[] {
    const out: NewMetricPoint[] = [];
    for (const l of lines) {
      if (l.stream === 'system') continue;
      for (const v of parseLine(l.text, st.compiled)) {
        if (st.fileNames.has(v.name)) continue;
        out.push({ name: v.name, node, seq: l.seq, step: v.step ?? l.seq, at: l.at, value: v.value });
      }
    }
    return out;
  }

  /** Stores what fits under the limits; the first point that does not is the job's one warning. */
  private store(jobId: number, st: JobState, source: MetricSource, points: readonly NewMetricPoint[]): void {
    const kept: NewMetricPoint[] = [];
    let refused = false;
    for (const p of points) {
      const key = `${p.name}\u0000${p.node}`;
      if (st.points >= this.maxPoints || (!st.series.has(key) && st.series.size >= this.maxSeries)) {
        refused = true;
        continue;
      }
      st.series.add(key);
      st.points += 1;
      kept.push(p);
    }
    this.d.metrics.insert(jobId, source, kept);
    if (refused && !st.full) {
      st.full = true;
      this.d.jobs.addEvent(
        jobId,
        EventType.warning,
        `metrics: the limit of ${this.maxPoints.toLocaleString('en-US')} points or ${this.maxSeries} series per job was reached; later values are not stored`,
      );
    }
  }

  /** Forgets the log's points and reads the stored log again with `defs`, a page at a time. */
  private async reparse(jobId: number, defs: readonly MetricDefinition[]): Promise<void> {
    const job = this.d.jobs.getById(jobId);
    if (!job) return;
    // Pending live lines were read with the old definitions: read them now, then drop the lot.
    this.drain();
    this.d.metrics.deleteSource(jobId, 'log');
    this.states.delete(jobId);
    const st = this.state(jobId)!;
    st.compiled = compileDefinitions(defs);
    for (let node = 0; node < job.nodeCount; node++) {
      const last = this.d.logs.lastSeq(jobId, node);
      st.floor.set(node, last);
      let after = 0;
      while (after < last) {
        const rows = this.d.logs.page(jobId, node, after, REPARSE_PAGE).filter((r) => r.seq <= last);
        if (rows.length === 0) break;
        this.store(jobId, st, 'log', this.parseLines(st, node, rows));
        after = rows[rows.length - 1]!.seq;
        // Let requests in between pages: a long log is read over many turns of the event loop.
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  /**
   * Reads `<Training Output Path>/metrics.jsonl` of an ended job (up to MAX_JSONL_BYTES): its
   * names replace the log's series of the same names.
   */
  private async importFile(job: JobRecord): Promise<void> {
    const out = parseObjectPath(job.spec.trainOutput);
    let stream: Readable;
    try {
      stream = await this.d.store.getStream(out.bucket, `${out.prefix}${METRICS_FILE}`);
    } catch (err) {
      if (err instanceof ObjectStoreError && err.notFound) return;
      throw err;
    }
    const at = job.endedAt ?? new Date().toISOString();
    const points: NewMetricPoint[] = [];
    let bytes = 0;
    let lineNo = 0;
    let cut = false;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const text of lines) {
        bytes += Buffer.byteLength(text) + 1;
        if (bytes > MAX_JSONL_BYTES || points.length > this.maxPoints) {
          cut = true;
          break;
        }
        lineNo += 1;
        const rec = parseJsonl(text);
        if (!rec) continue;
        for (const v of rec.values) {
          points.push({ name: v.name, node: rec.node ?? 0, seq: lineNo, step: rec.step, at: rec.at ?? at, value: v.value });
        }
      }
    } finally {
      lines.close();
      stream.destroy();
    }
    if (points.length === 0) return;
    this.drain();
    const names = [...new Set(points.map((p) => p.name))];
    this.d.metrics.deleteNames(job.id, names);
    this.states.delete(job.id);
    const st = this.state(job.id);
    if (!st) return;
    for (const n of names) st.fileNames.add(n);
    this.store(job.id, st, 'file', points);
    if (cut && !st.full) {
      this.d.jobs.addEvent(
        job.id,
        EventType.warning,
        `metrics: ${METRICS_FILE} was read up to ${MAX_JSONL_BYTES / 1024 / 1024} MiB; the rest is left out`,
      );
    }
  }
}
