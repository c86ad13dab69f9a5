import type { LogRepository, StoredLogLine } from '../db/log-repository.js';

/**
 * Collects one node's lines and writes them in batches: one transaction per batch instead of
 * per line keeps a container printing at full speed from being slowed by the database, and the
 * short flush interval keeps the live view within a fraction of a second.
 */
export class LogSink {
  private seq: number;
  private buffer: StoredLogLine[] = [];
  private timer: NodeJS.Timeout | null = null;

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
    if (this.buffer.length >= this.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** A line from the platform itself (image check, skipped files, failure reasons). */
  system(text: string): void {
    this.add('system', text);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.buffer;
    this.buffer = [];
    this.logs.append(this.jobId, this.node, batch);
  }
}
