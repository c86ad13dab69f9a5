/** Where a command writes; the real process streams, or buffers in tests. */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: Out;
  stderr: Out;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Colours only on a terminal, and never when NO_COLOR is set to anything (no-color.org) or TERM=dumb. */
export function colorsFor(out: Out, env: NodeJS.ProcessEnv): Colors {
  const on = Boolean(out.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled: on,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

export interface Colors {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function statusColor(c: Colors, status: string): string {
  if (status === 'Successful') return c.green(status);
  if (status === 'Running failed') return c.red(status);
  if (status === 'Stopped' || status === 'Stopping') return c.yellow(status);
  if (status === 'Running') return c.cyan(status);
  return status;
}

/** Visible width, not counting colour escapes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex -- the escape character is exactly what is stripped
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * Rows as aligned columns. On a terminal the table is narrowed to its width: the widest
 * columns are cut first, with an ellipsis, so no row wraps.
 */
export function table(headers: string[], rows: string[][], out: Out, c: Colors): string {
  const plain = rows.map((r) => r.map((cell) => cell.replace(/\s+/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...plain.map((r) => visibleLength(r[i] ?? ''))));
  const gap = 2;
  const limit = out.isTTY && out.columns ? out.columns : Infinity;
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  while (total() > limit) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= 8) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const cell = (s: string, w: number) => {
    const len = visibleLength(s);
    if (len <= w) return s + ' '.repeat(w - len);
    // A cut cell loses its colour: cutting inside an escape sequence would garble the terminal.
    return visibleText(s).slice(0, Math.max(0, w - 1)) + '…';
  };
  const line = (r: string[]) =>
    r
      .map((s, i) => cell(s, widths[i] ?? 0))
      .join(' '.repeat(gap))
      .trimEnd();
  return [c.bold(line(headers)), ...plain.map(line)].join('\n') + '\n';
}

function visibleText(s: string): string {
  // eslint-disable-next-line no-control-regex -- the escape character is exactly what is stripped
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function formatDuration(startIso: string | null, endIso: string | null, now = Date.now()): string {
  if (!startIso) return '-';
  const s = Math.max(0, Math.round(((endIso ? Date.parse(endIso) : now) - Date.parse(startIso)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}
