import { Readable } from 'node:stream';
import { isTerminal, LOG_STREAM_END_EVENT, type LogPage } from '@tc/contracts';
import type { LogRepository } from '../engine/log-repository.js';
import type { JobRepository } from './job-repository.js';

/** A comment this often keeps proxies and browsers from taking a quiet stream for a dead one. */
export const LOG_STREAM_HEARTBEAT_MS = 15_000;
/** Open streams one user may hold; a browser tab needs one per log it shows. */
export const LOG_STREAMS_PER_USER = 20;
/** How long a browser waits before reconnecting (the `retry:` field). */
const RETRY_MS = 1000;
/** One event holds at most this many lines, or this much text: a burst is sent as several events. */
const EVENT_LINES = 1000;
const EVENT_CHARS = 256 * 1024;
/**
 * What a stream holds before it stops reading the database; with the socket's own buffer and at
 * most one event over it, this is all the memory a client that does not read can cost.
 */
const STREAM_BUFFER_BYTES = 64 * 1024;

/** 429: the user has LOG_STREAMS_PER_USER streams open already (the error handler maps statusCode). */
export class TooManyStreamsError extends Error {
  readonly statusCode = 429;
  readonly code = 'too_many_streams';
}

export interface LogStreamsDeps {
  logs: Pick<LogRepository, 'pageWithin' | 'onAppend'>;
  jobs: Pick<JobRepository, 'getById' | 'onTransition'>;
  perUser?: number;
  heartbeatMs?: number;
}

/**
 * Live logs pushed as server-sent events. A stream reads the lines after its cursor when the
 * client can take them (a pull: the socket's backpressure stops the reads), and otherwise sleeps
 * until the repository says lines of its node were stored or the job's status changed; the
 * database is read once per wake, not polled per client. The heartbeat also re-reads once, so a
 * missed wake costs at most one heartbeat of delay.
 */
export class LogStreams {
  private readonly streams = new Set<LogEventStream>();
  private readonly byJob = new Map<number, Set<LogEventStream>>();
  private readonly perUser = new Map<number, number>();
  private readonly limit: number;

  constructor(private readonly d: LogStreamsDeps) {
    this.limit = d.perUser ?? LOG_STREAMS_PER_USER;
    // Inside the status change's transaction: the streams only take note here and read after it.
    d.jobs.onTransition((t) => {
      if (isTerminal(t.to)) for (const s of this.byJob.get(t.job.id) ?? []) s.wake();
    });
  }

  /** The stream of one node's lines after `after`; the caller has checked access, node and cursor. */
  open(userId: number, jobId: number, node: number, after: number): Readable {
    const held = this.perUser.get(userId) ?? 0;
    if (held >= this.limit) {
      throw new TooManyStreamsError(`at most ${this.limit} live logs may be followed at once; close some pages, or read the logs API`);
    }
    this.perUser.set(userId, held + 1);
    const stream = new LogEventStream(
      {
        read: (cursor) => this.d.logs.pageWithin(jobId, node, cursor, EVENT_LINES, EVENT_CHARS),
        ended: () => {
          const job = this.d.jobs.getById(jobId);
          return !job || isTerminal(job.status);
        },
        heartbeatMs: this.d.heartbeatMs ?? LOG_STREAM_HEARTBEAT_MS,
      },
      after,
    );
    const unsubscribe = this.d.logs.onAppend(jobId, node, () => stream.wake());
    const forJob = this.byJob.get(jobId) ?? new Set<LogEventStream>();
    this.byJob.set(jobId, forJob);
    forJob.add(stream);
    this.streams.add(stream);
    stream.once('close', () => {
      unsubscribe();
      forJob.delete(stream);
      if (forJob.size === 0 && this.byJob.get(jobId) === forJob) this.byJob.delete(jobId);
      this.streams.delete(stream);
      const n = (this.perUser.get(userId) ?? 1) - 1;
      if (n > 0) this.perUser.set(userId, n);
      else this.perUser.delete(userId);
    });
    return stream;
  }

  /** Open streams, for tests and shutdown. */
  get size(): number {
    return this.streams.size;
  }

  /** Ends every stream (the server is closing): browsers reconnect by their last event's id. */
  closeAll(): void {
    for (const s of [...this.streams]) s.stop();
  }
}

interface Source {
  read(cursor: number): LogPage['lines'];
  ended(): boolean;
  heartbeatMs: number;
}

function event(page: LogPage, name?: string): string {
  // JSON escapes every line break, so the data is one `data:` line whatever the log holds.
  return `${name ? `event: ${name}\n` : ''}id: ${page.nextCursor}\ndata: ${JSON.stringify(page)}\n\n`;
}

class LogEventStream extends Readable {
  /** The last read found nothing new: the next wake reads again (otherwise the stream's own _read does). */
  private idle = false;
  private scheduled = false;
  private finished = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly src: Source,
    private cursor: number,
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    // Something to send at once, so the headers go out before the first line does.
    this.push(`retry: ${RETRY_MS}\n\n`);
    this.heartbeat = setInterval(() => {
      if (!this.idle) return;
      // Pushing makes the stream read again: the heartbeat doubles as a check for a missed wake.
      this.idle = false;
      this.push(': heartbeat\n\n');
    }, src.heartbeatMs);
    this.heartbeat.unref();
  }

  override _read(): void {
    this.pump();
  }

  /** Lines were stored or the job's status changed. Never reads inside the writer's transaction. */
  wake(): void {
    if (!this.idle || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.idle) this.pump();
    });
  }

  /** Ends the stream without `end`, so a browser reconnects and resumes. */
  stop(): void {
    if (this.finished || this.destroyed) return;
    this.finished = true;
    clearInterval(this.heartbeat);
    // Idle means nothing is waiting in the buffer: end cleanly; otherwise the client is not reading.
    if (this.idle) this.push(null);
    else this.destroy();
  }

  private pump(): void {
    this.idle = false;
    if (this.finished || this.destroyed) return;
    let lines = this.src.read(this.cursor);
    if (lines.length === 0 && this.src.ended()) {
      // Lines stored before the status changed are all visible now; read once more to be sure.
      lines = this.src.read(this.cursor);
      if (lines.length === 0) {
        this.finished = true;
        clearInterval(this.heartbeat);
        this.push(event({ lines: [], nextCursor: String(this.cursor), complete: true }, LOG_STREAM_END_EVENT));
        this.push(null);
        return;
      }
    }
    if (lines.length === 0) {
      this.idle = true;
      return;
    }
    this.cursor = lines[lines.length - 1]!.seq;
    this.push(event({ lines, nextCursor: String(this.cursor), complete: false }));
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.finished = true;
    clearInterval(this.heartbeat);
    done(err);
  }
}
