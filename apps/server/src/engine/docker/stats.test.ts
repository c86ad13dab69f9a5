import { describe, expect, it } from 'vitest';
import { usageFromStats } from './stats.js';

describe('usageFromStats', () => {
  it('computes CPU % and memory the way docker stats does (cgroup v1)', () => {
    const s = usageFromStats({
      read: '2026-12-01T10:00:00.5Z',
      cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 18_000_000_000 },
      memory_stats: { usage: 500, limit: 2048, stats: { total_inactive_file: 100, inactive_file: 7 } },
      networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { op: 'Read', value: 4096 },
          { op: 'Write', value: 8192 },
          { op: 'Total', value: 12288 },
        ],
      },
    });
    // 1 s of CPU in 2 s of system time on 2 CPUs: one CPU fully busy.
    expect(s).toEqual({
      at: new Date('2026-12-01T10:00:00.5Z'),
      cpuPercent: 100,
      memoryBytes: 400,
      memoryLimitBytes: 2048,
      netRxBytes: 11,
      netTxBytes: 22,
      blkReadBytes: 4096,
      blkWriteBytes: 8192,
    });
  });

  it('reads cgroup v2 memory, no network and no block I/O as zeros', () => {
    const s = usageFromStats({
      read: '2026-12-01T10:00:00Z',
      cpu_stats: { cpu_usage: { total_usage: 5, percpu_usage: [1, 2, 3, 4] }, system_cpu_usage: 10 },
      precpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 5 },
      memory_stats: { usage: 300, limit: 1000, stats: { inactive_file: 50 } },
      networks: undefined,
      blkio_stats: { io_service_bytes_recursive: null },
    });
    expect(s).toEqual({
      at: new Date('2026-12-01T10:00:00Z'),
      cpuPercent: 0,
      memoryBytes: 250,
      memoryLimitBytes: 1000,
      netRxBytes: 0,
      netTxBytes: 0,
      blkReadBytes: 0,
      blkWriteBytes: 0,
    });
  });

  it('has nothing to say for a container that is not running', () => {
    expect(usageFromStats({ read: '0001-01-01T00:00:00Z', memory_stats: {}, cpu_stats: {}, precpu_stats: {} })).toBeNull();
  });
});
