import type { UsageSample } from '../container-engine.js';

/** The parts of the engine's `GET /containers/{id}/stats` answer a usage sample reads. */
interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}
export interface EngineStats {
  read?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null } | null;
}

const num = (v: number | undefined | null): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/**
 * The engine's stats as a UsageSample, computed the way the docker CLI's `docker stats` does
 * (cli/command/container/stats_helpers.go), so the console and `docker stats` agree:
 * CPU % = cpu delta / system delta × online CPUs × 100 between the reading and the one the
 * engine took a moment before it (precpu); memory is usage without inactive_file, the page cache
 * the kernel can drop (cgroup v1 reports it as total_inactive_file, v2 as inactive_file).
 */
export function usageFromStats(s: EngineStats): UsageSample | null {
  const read = s.read ? new Date(s.read) : null;
  // A container that is not running answers with a zero time (0001-01-01) and empty figures.
  if (!read || Number.isNaN(read.getTime()) || read.getUTCFullYear() <= 1 || !s.memory_stats?.limit) return null;
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = num(cpu.cpu_usage?.total_usage) - num(pre.cpu_usage?.total_usage);
  const systemDelta = num(cpu.system_cpu_usage) - num(pre.system_cpu_usage);
  const online = num(cpu.online_cpus) || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;

  const mem = s.memory_stats ?? {};
  const usage = num(mem.usage);
  const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file;
  const memoryBytes = inactive !== undefined && inactive < usage ? usage - inactive : usage;

  let netRxBytes = 0;
  let netTxBytes = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRxBytes += num(n.rx_bytes);
    netTxBytes += num(n.tx_bytes);
  }

  let blkReadBytes = 0;
  let blkWriteBytes = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') blkReadBytes += num(e.value);
    else if (op === 'write') blkWriteBytes += num(e.value);
  }

  return {
    at: read,
    cpuPercent: Math.round(cpuPercent * 100) / 100,
    memoryBytes: Math.round(memoryBytes),
    memoryLimitBytes: Math.round(num(mem.limit)),
    netRxBytes,
    netTxBytes,
    blkReadBytes,
    blkWriteBytes,
  };
}
