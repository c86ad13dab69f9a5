import { z } from 'zod';
import { Timestamp } from './timestamp.js';

/**
 * One reading of a node's container. Byte counters (network, block I/O) are cumulative since the
 * container started, as the engine reports them; a chart shows their rate from consecutive samples.
 */
export const UsageSample = z.object({
  at: Timestamp,
  /** Share of one CPU × 100, as `docker stats` shows it (2 busy CPUs: 200). */
  cpuPercent: z.number().min(0),
  /** Memory in use without the page cache the kernel can drop (usage − inactive_file). */
  memoryBytes: z.int().min(0),
  /** The container's memory limit (the flavor's memory). */
  memoryLimitBytes: z.int().min(0),
  netRxBytes: z.int().min(0),
  netTxBytes: z.int().min(0),
  blkReadBytes: z.int().min(0),
  blkWriteBytes: z.int().min(0),
  /**
   * GPU nodes only: utilisation of the node's GPUs (mean, 0–100) and their memory in use. Filled
   * by a GPU node's sampler (nvidia-smi / DCGM through the node agent); absent on CPU nodes and
   * not sampled by the Docker backend.
   */
  gpuPercent: z.number().min(0).optional(),
  gpuMemoryBytes: z.int().min(0).optional(),
});
export type UsageSample = z.infer<typeof UsageSample>;

export const NodeUsage = z.object({
  index: z.int().min(0),
  /** Oldest first. A long run's older samples are thinned, so their spacing grows with age. */
  samples: z.array(UsageSample),
});
export type NodeUsage = z.infer<typeof NodeUsage>;

/** Resource usage of a job's nodes, sampled from the engine while the job runs. */
export const JobUsage = z.object({
  nodes: z.array(NodeUsage),
  /** Why this console's engine takes no samples at all (on a Docker Swarm); absent or null where it does. */
  unavailable: z.string().nullable().optional(),
});
export type JobUsage = z.infer<typeof JobUsage>;
