import type { Db } from '../db/database.js';

/** A stored sample, as the sampler writes it and the API reads it. */
export interface StoredSample {
  at: Date;
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  blkReadBytes: number;
  blkWriteBytes: number;
  gpuPercent?: number;
  gpuMemoryBytes?: number;
}

interface SampleRow {
  node: number;
  at_ms: number;
  cpu_percent: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  net_rx_bytes: number;
  net_tx_bytes: number;
  blk_read_bytes: number;
  blk_write_bytes: number;
  gpu_percent: number | null;
  gpu_memory_bytes: number | null;
}

/** What one node may keep: at 5 s a 1-hour run fits whole (4 s buckets); longer runs are thinned to it. */
export const MAX_SAMPLES_PER_NODE = 1024;

/**
 * The usage samples of jobs' nodes (table usage_samples, removed with the job).
 *
 * Storage per node is bounded by `maxPerNode`, whatever the run's length, with its whole shape
 * kept: the run since the node's first sample is cut into buckets of `bucketMs` × 2^k, k the
 * smallest that leaves at most `maxPerNode` buckets, and a node keeps the first sample of each
 * bucket. When the run outgrows its buckets they double, and every other sample goes: the
 * series stays evenly spaced from the start to now, a long run reads as the same curve at a
 * coarser step. The rule reads only what is stored, so it carries on across a restart.
 */
export class UsageRepository {
  constructor(
    private readonly db: Db,
    private readonly maxPerNode = MAX_SAMPLES_PER_NODE,
    /** The finest step; below the sampling interval, so a run that fits keeps every sample. */
    private readonly bucketMs = 1000,
  ) {
    if (maxPerNode < 2) throw new Error('maxPerNode must be at least 2');
  }

  /** The bucket width for a run this long since its first sample. */
  private step(sinceFirstMs: number): number {
    let step = this.bucketMs;
    while (Math.floor(sinceFirstMs / step) > this.maxPerNode - 1) step *= 2;
    return step;
  }

  /** Stores the sample, or skips it when its bucket already has one; returns whether it was stored. */
  add(jobId: number, node: number, s: StoredSample): boolean {
    const atMs = Math.round(s.at.getTime());
    return this.db.transaction(() => {
      const span = this.db
        .prepare<[number, number], { first: number | null; last: number | null }>(
          'SELECT MIN(at_ms) AS first, MAX(at_ms) AS last FROM usage_samples WHERE job_id = ? AND node = ?',
        )
        .get(jobId, node)!;
      if (span.first !== null && span.last !== null) {
        if (atMs <= span.last) return false;
        const step = this.step(atMs - span.first);
        if (Math.floor((atMs - span.first) / step) === Math.floor((span.last - span.first) / step)) return false;
        if (step > this.step(span.last - span.first)) this.thin(jobId, node, span.first, step);
      }
      this.db
        .prepare(
          `INSERT INTO usage_samples (job_id, node, at_ms, cpu_percent, memory_bytes, memory_limit_bytes, net_rx_bytes, net_tx_bytes,
             blk_read_bytes, blk_write_bytes, gpu_percent, gpu_memory_bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          jobId,
          node,
          atMs,
          s.cpuPercent,
          s.memoryBytes,
          s.memoryLimitBytes,
          s.netRxBytes,
          s.netTxBytes,
          s.blkReadBytes,
          s.blkWriteBytes,
          s.gpuPercent ?? null,
          s.gpuMemoryBytes ?? null,
        );
      return true;
    })();
  }

  /** Keeps the first sample of each bucket of width `step` (bound numbers are REAL: the CAST floors). */
  private thin(jobId: number, node: number, first: number, step: number): void {
    this.db
      .prepare(
        `DELETE FROM usage_samples WHERE job_id = ? AND node = ? AND at_ms NOT IN (
           SELECT MIN(at_ms) FROM usage_samples WHERE job_id = ? AND node = ? GROUP BY CAST((at_ms - ?) / ? AS INTEGER)
         )`,
      )
      .run(jobId, node, jobId, node, first, step);
  }

  /** Every node's samples of the job, oldest first. */
  forJob(jobId: number): Map<number, StoredSample[]> {
    const rows = this.db.prepare<[number], SampleRow>('SELECT * FROM usage_samples WHERE job_id = ? ORDER BY node, at_ms').all(jobId);
    const out = new Map<number, StoredSample[]>();
    for (const r of rows) {
      let list = out.get(r.node);
      if (!list) out.set(r.node, (list = []));
      list.push({
        at: new Date(r.at_ms),
        cpuPercent: r.cpu_percent,
        memoryBytes: r.memory_bytes,
        memoryLimitBytes: r.memory_limit_bytes,
        netRxBytes: r.net_rx_bytes,
        netTxBytes: r.net_tx_bytes,
        blkReadBytes: r.blk_read_bytes,
        blkWriteBytes: r.blk_write_bytes,
        ...(r.gpu_percent === null ? {} : { gpuPercent: r.gpu_percent }),
        ...(r.gpu_memory_bytes === null ? {} : { gpuMemoryBytes: r.gpu_memory_bytes }),
      });
    }
    return out;
  }
}
