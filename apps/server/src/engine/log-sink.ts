import type { LogRepository, StoredLogLine } from '../db/log-repository.js';

/**
 * Collects one node's lines and writes them in batches: one transaction per batch instead of
 * per line keeps a container printing at full speed from being slowed by the database, and the
 * short flush interval keeps the live view within a fraction of a second. A line that arrives
 * after a quiet spell is written at once (leading edge): a node printing now and then, and the
 * first line of every job, show without waiting for the interval.
 */
export class LogSink {
  private seq: number;
  private buffer: StoredLogLine[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;

  constructor(
    private readonly logs: LogRepository,
    private readonly jobId: number,
    private readonly node: number,
    private readonly maxBatch = 1000,
    private readonly flushMs = 100,
  ) {
    this.seq = logs.lastSeq(jobId, node);
  }

  add(stream: StoredLogLine['stream'], text: string, at: Date = new Date()): void {
    this.seq += 1;
    this.buffer.push({ seq: this.seq, at: at.toISOString(), stream, text });
    if (this.buffer.length >= this.maxBatch) return this.flush();
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
    this.logs.append(this.jobId, this.node, batch);
  }
}
