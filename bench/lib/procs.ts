import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * What processes on this machine did, from /proc and the engine's cgroups (v1, cgroupfs, as
 * the engine here runs): bytes a process read and wrote, CPU time, for the analysis of where
 * a transfer's time goes.
 */

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`; 100 on every Linux build here). */
const TICKS = 100;

/**
 * rchar and wchar of /proc/<pid>/io: every byte the process (and the children it reaped) passed
 * through read/write-like system calls, sockets and pipes included, page cache or not.
 */
export function procIo(pid: number): { rchar: number; wchar: number } {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/io`);
    return Number(m[1]);
  };
  return { rchar: field('rchar'), wchar: field('wchar') };
}

/** utime + stime of /proc/<pid>/stat, with the reaped children's when `children`; in ms. */
export function procCpuMs(pid: number, children = false): number {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'), children);
}

function statCpuMs(stat: string, children: boolean): number {
  // Fields after the command (which may hold spaces) start at field 3, `state`.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (n: number): number => Number(f[n - 3]);
  const ticks = at(14) + at(15) + (children ? at(16) + at(17) : 0);
  return (ticks * 1000) / TICKS;
}

/** CPU time of everything in a container (the processes `docker exec` starts in it too), in ms. */
export function containerCpuMs(id: string): number {
  return Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8').trim()) / 1e6;
}

/** The pid of the engine behind /var/run/docker.sock, when it wrote its pid file. */
export function dockerdPid(): number | null {
  try {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Runs a command like bench/lib/data.ts's timeCommand, and also reports its CPU time (user +
 * system, its children included): a shell runs it and prints its own /proc stat afterwards, whose
 * cutime/cstime are the reaped command's.
 */
export function timeCommandCpu(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ ms: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('sh', ['-c', '"$@" >/dev/null || exit $?; cat /proc/$$/stat', 'sh', cmd, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err}`));
      else resolve({ ms, cpuMs: statCpuMs(out.trim(), true) });
    });
  });
}

export type Readings = Record<string, number>;

/**
 * Reads a set of counters every `everyMs` with the wall-clock time (the clock the console stamps
 * its events with), so that the counters can be read back at the times of two events.
 */
export class Sampler {
  private readonly samples: { at: number; v: Readings }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly read: () => Readings,
    private readonly everyMs = 100,
  ) {}

  start(): this {
    this.take();
    this.timer = setInterval(() => this.take(), this.everyMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.take();
  }

  private take(): void {
    try {
      this.samples.push({ at: Date.now(), v: this.read() });
    } catch {
      // A process that just ended: the samples before it stand.
    }
  }

  /**
   * Each counter's growth between the last sample at or before `from` and the first at or after
   * `to`: the window covers the events' interval (by up to one period at each end).
   */
  between(from: number, to: number): { ms: number; delta: Readings } {
    const before = [...this.samples].reverse().find((s) => s.at <= from) ?? this.samples[0];
    const after = this.samples.find((s) => s.at >= to) ?? this.samples.at(-1);
    if (!before || !after) throw new Error('no samples');
    const delta: Readings = {};
    for (const k of Object.keys(after.v)) delta[k] = (after.v[k] ?? 0) - (before.v[k] ?? 0);
    return { ms: after.at - before.at, delta };
  }
}
