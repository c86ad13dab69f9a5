import type { LineSize, LogCapState, LogRepository, StoredLogLine } from './log-repository.js';

/** Per node; small enough that a few runaway jobs do not fill a small disk. */
export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;

/**
 * What a stored line costs beside its text: its number, stamp and stream, and SQLite's own
 * overhead per row. Counting it keeps a log of very short lines (`yes`) as bounded on disk as one
 * of long lines.
 */
export const LINE_OVERHEAD = 48;

/** A batch is written once it holds this much, so a burst of long lines is never all in memory. */
const MAX_BATCH_BYTES = 1024 * 1024;
/**
 * The longest line kept whole; longer ones are cut (a line alone could otherwise fill the limit).
 * 1 MiB and room for the note the engine adapter puts on a line it cut there (log-demux.ts).
 */
const MAX_LINE_BYTES = 1024 * 1024 + 128;
/** Line sizes read per query while choosing what to drop. */
const SIZE_PAGE = 1000;

export interface LogSinkOptions {
  /** What the node's stored log may cost (see LINE_OVERHEAD); half is the head, half the tail. */
  maxBytes?: number;
  maxBatch?: number;
  flushMs?: number;
  /** Called once per node, when the first line is dropped; not again after a restart. */
  onDropStart?: (message: string) => void;
}

/** 67108864 → "64 MiB", 2254857830 → "2.1 GiB". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  if (u === 0) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
function cutUtf8(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  let end = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls before a character's first byte.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end -= 1;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * Collects one node's lines and writes them in batches: one transaction per batch instead of
 * per line keeps a container printing at full speed from being slowed by the database, and the
 * short flush interval keeps the live view within a fraction of a second. A line that arrives
 * after a quiet spell is written at once (leading edge): a node printing now and then, and the
 * first line of every job, show without waiting for the interval.
 *
 * The stored log is capped at `maxBytes`. The first half keeps the log's first lines (the head:
 * setup, configuration, the first error); once it is full, lines go to the tail, and when the
 * tail outgrows the other half its oldest lines are deleted, so the log always ends with the
 * latest ones. One system line, the marker, stands where the lines were dropped and says how
 * many; it takes the seq of the last line dropped, so seqs never change and cursors stay valid.
 * Where the cut is and what was dropped is kept in the database with the lines (LogCapState):
 * a restarted console carries on with the same accounting.
 */
export class LogSink {
  private seq: number;
  private buffer: StoredLogLine[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private readonly maxBytes: number;
  private readonly headBudget: number;
  private readonly tailBudget: number;
  private readonly maxLine: number;
  private readonly maxBatch: number;
  private readonly flushMs: number;
  private readonly onDropStart: ((message: string) => void) | undefined;
  private readonly cap: LogCapState;
  private capChanged = false;
  private headBytes = 0;
  private tailBytes = 0;
  /** Stamp of the newest line from the container (not the platform's own lines). */
  private newestAt: string | null;

  constructor(
    private readonly logs: LogRepository,
    private readonly jobId: number,
    private readonly node: number,
    opts: LogSinkOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
    this.headBudget = Math.floor(this.maxBytes / 2);
    this.tailBudget = this.maxBytes - this.headBudget;
    this.maxLine = Math.min(MAX_LINE_BYTES, Math.floor(this.maxBytes / 8));
    this.maxBatch = opts.maxBatch ?? 1000;
    this.flushMs = opts.flushMs ?? 100;
    this.onDropStart = opts.onDropStart;
    this.seq = logs.lastSeq(jobId, node);
    this.cap = logs.capState(jobId, node) ?? { headEnd: null, markerSeq: null, droppedLines: 0, droppedBytes: 0 };
    // One aggregate over at most maxBytes of lines: where a previous process left the log.
    if (this.cap.headEnd === null) this.headBytes = logs.storedBytes(jobId, node, 0, LINE_OVERHEAD);
    else this.tailBytes = logs.storedBytes(jobId, node, this.cap.markerSeq ?? this.cap.headEnd, LINE_OVERHEAD);
    this.newestAt = logs.resumePoint(jobId, node)?.at ?? null;
  }

  add(stream: StoredLogLine['stream'], text: string, at: Date = new Date()): void {
    let line = text;
    let bytes = Buffer.byteLength(line);
    if (bytes > this.maxLine) {
      line = `${cutUtf8(line, this.maxLine)} [… line cut at ${formatBytes(this.maxLine)}]`;
      bytes = Buffer.byteLength(line);
    }
    const cost = bytes + LINE_OVERHEAD;
    this.seq += 1;
    if (this.cap.headEnd === null && this.headBytes + cost <= this.headBudget) {
      this.headBytes += cost;
    } else {
      if (this.cap.headEnd === null) {
        this.cap.headEnd = this.seq - 1;
        this.capChanged = true;
      }
      this.tailBytes += cost;
    }
    const stamp = at.toISOString();
    if (stream !== 'system') this.newestAt = stamp;
    this.buffer.push({ seq: this.seq, at: stamp, stream, text: line });
    this.bufferBytes += cost;
    if (this.buffer.length >= this.maxBatch || this.bufferBytes >= MAX_BATCH_BYTES) return this.flush();
    if (this.timer) return;
    const quiet = Date.now() - this.lastFlush;
    if (quiet >= this.flushMs) this.flush();
    else this.timer = setTimeout(() => this.flush(), this.flushMs - quiet);
  }

  /** A line from the platform itself (image check, skipped files, failure reasons). */
  system(text: string): void {
    this.add('system', text);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlush = Date.now();
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    if (batch.length === 0) return;
    let firstDrop = false;
    this.logs.transaction(() => {
      this.logs.append(this.jobId, this.node, batch);
      if (this.tailBytes > this.tailBudget) firstDrop = this.trim();
      if (this.capChanged) this.logs.saveCapState(this.jobId, this.node, this.cap);
      this.capChanged = false;
    });
    if (firstDrop) {
      this.onDropStart?.(
        `the log of node ${this.node} exceeded the limit of ${formatBytes(this.maxBytes)}: its first ${formatBytes(this.headBudget)} and ` +
          `latest ${formatBytes(this.tailBudget)} are kept, the lines between are dropped`,
      );
    }
  }

  /**
   * Deletes the oldest tail lines until the tail fits its half again, and puts the marker in
   * their place. Returns whether these are the first lines this node's log dropped.
   */
  private trim(): boolean {
    const excess = this.tailBytes - this.tailBudget;
    // The tail starts after the marker, or after the head while nothing was dropped yet.
    const from = this.cap.markerSeq ?? this.cap.headEnd!;
    let after = from;
    let freed = 0;
    let lines = 0;
    let bytes = 0;
    let last: LineSize | null = null;
    scan: while (freed < excess) {
      const rows = this.logs.sizes(this.jobId, this.node, after, SIZE_PAGE);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (freed >= excess) break scan;
        // Lines sharing the newest stamp stay: a restarted console resumes the engine's log by
        // counting them (LogRepository.resumePoint), and a dropped one would come back twice.
        if (r.stream !== 'system' && r.at === this.newestAt) break scan;
        freed += r.bytes + LINE_OVERHEAD;
        lines += 1;
        bytes += r.bytes + 1;
        last = r;
      }
      after = rows[rows.length - 1]!.seq;
    }
    if (!last) return false;
    const first = this.cap.markerSeq === null;
    this.tailBytes -= freed;
    this.cap.markerSeq = last.seq;
    this.cap.droppedLines += lines;
    this.cap.droppedBytes += bytes;
    this.capChanged = true;
    const text =
      `[… ${this.cap.droppedLines.toLocaleString('en-US')} lines (${formatBytes(this.cap.droppedBytes)}) dropped: ` +
      `the log exceeded the limit of ${formatBytes(this.maxBytes)} per node; the first and the latest lines are kept …]`;
    // From the old marker on (it is replaced), or from the first tail line.
    this.logs.replaceRange(this.jobId, this.node, first ? from + 1 : from, last.seq, {
      seq: last.seq,
      at: last.at,
      stream: 'system',
      text,
    });
    return first;
  }
}
