/**
 * Human-readable duration between two instants, as job lists show it: `4.2s`, `45.0s`, `3m 07s`,
 * `2h 05m`, `3d 4h`. A job that has not started yet has no duration (`—`); a running one
 * is measured up to `now`.
 */
export function formatDuration(startedAt: string | null | undefined, endedAt: string | null | undefined, now: Date = new Date()): string {
  if (!startedAt) return '—';
  const start = Date.parse(startedAt);
  const end = endedAt ? Date.parse(endedAt) : now.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) return '—';
  return formatSeconds(Math.max(0, (end - start) / 1000));
}

/** Under a minute with tenths (`0.4s`, not `0s`: a short job took some time); whole units above. */
export function formatSeconds(total: number): string {
  const t = Math.max(0, total);
  if (t < 60) return `${(Math.floor(t * 10) / 10).toFixed(1)}s`;
  const s = Math.floor(t);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  return `${minutes}m ${pad(seconds)}s`;
}

/** Local date and time, `2025-11-28 16:20:05`; the raw value if it is not a date. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `0 B`, `512 B`, `1.5 KiB`, `12 MiB`: binary units, one decimal below 10. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = Math.max(0, bytes);
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[u]}`;
}
