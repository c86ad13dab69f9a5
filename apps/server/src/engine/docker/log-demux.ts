import { StringDecoder } from 'node:string_decoder';
import type { LogLineEvent, LogStream } from '../container-engine.js';

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** "2006-01-02T15:04:05.000000000+07:00" is 35 characters; leave some room. */
const MAX_STAMP = 40;
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Parses the engine's RFC3339Nano log stamps. Consecutive lines mostly share their second, so
 * the second is parsed once and reused. Gives the time as a Date (milliseconds, the most a Date
 * holds) and as microseconds since the epoch, exact in a double, for comparing stamps.
 */
class StampParser {
  private key = '';
  private base = 0;
  /** Of the last successful parse. */
  at = new Date(0);
  us = 0;

  parse(s: string): boolean {
    const m = STAMP.exec(s);
    if (!m) return false;
    const key = `${m[1]}${m[3]}`;
    if (key !== this.key) {
      const base = Date.parse(key);
      if (Number.isNaN(base)) return false;
      this.key = key;
      this.base = base;
    }
    const micros = m[2] ? Number(m[2].slice(0, 6).padEnd(6, '0')) : 0;
    this.us = this.base * 1000 + micros;
    this.at = new Date(this.base + Math.floor(micros / 1000));
    return true;
  }
}

/** The API's `since` ("seconds.nanoseconds") for a time in microseconds. */
export function microsToSince(us: number): string {
  const sec = Math.floor(us / 1e6);
  return `${sec}.${String(us - sec * 1e6).padStart(6, '0')}000`;
}

/**
 * How far back a resumed request starts before the newest stamp passed on. The engine stamps
 * stdout and stderr messages in two goroutines and writes them in whichever order they get
 * the lock, so the log file is not quite in time order: a message written just after the last
 * one passed on can carry an older stamp. Starting a little earlier and skipping by count
 * catches it.
 */
const RESUME_MARGIN_US = 1_000_000;

/**
 * The most of one line held in memory: a job printing without newlines would otherwise make the
 * console hold all of it. The rest of a longer line is counted and skipped, and the line ends
 * with a note; it stays one line, so a resumed log counts lines as before.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

interface Pending {
  parts: Buffer[];
  at: Date | null;
  /** Bytes held in parts. */
  size: number;
  /** Bytes the line has so far, held or skipped. */
  total: number;
}

/**
 * Turns the body of `GET /containers/{id}/logs` (non-TTY, so multiplexed) into lines.
 *
 * The body is a sequence of frames: 1 byte stream type (1 stdout, 2 stderr, 3 an error the
 * engine hit while reading the log), 3 zero bytes, a 4-byte big-endian length, the payload.
 * HTTP chunks do not respect frame boundaries, so bytes are held until a frame is whole.
 *
 * With `timestamps`, the engine prefixes each log *message* (not each line) with its stamp and
 * a space. A message is normally one line with its newline, but the engine cuts lines longer
 * than 16 KiB into several messages, each with its own stamp and only the last with the
 * newline; so the stamp is stripped per frame, and a line is whatever lies between newlines
 * across frames of the same stream, stamped with the time of its first piece. A frame holding
 * several lines (other log drivers may do that) gives them all its stamp; text after an inner
 * newline is never taken for a stamp, since a user's own line may well begin with one.
 *
 * Lines are decoded only when complete, so a UTF-8 character cut between pieces stays whole.
 *
 * The same demuxer can be fed a second log request that picks up where the first stopped
 * (see resume()); the frames it already passed on are skipped, and a line left open by the
 * first request is completed by the second.
 */
export class LogDemuxer {
  private rest: Buffer = Buffer.alloc(0);
  private readonly pending: Record<LogStream, Pending> = {
    stdout: { parts: [], at: null, size: 0, total: 0 },
    stderr: { parts: [], at: null, size: 0, total: 0 },
  };
  private readonly stamps = new StampParser();
  /** Messages the engine sent on its system-error stream, e.g. a log file it could not read. */
  readonly engineErrors: string[] = [];
  /**
   * Stamps (µs) of the frames passed on that are not older than the newest one minus the
   * margin, in the order passed on; `head` is the first live entry.
   */
  private recent: number[] = [];
  private head = 0;
  private newest = -Infinity;
  /** A resumed request never goes back before the caller's own `since`. */
  private floorUs = -Infinity;
  /** Frames still to drop at the start of a resumed request (they were passed on before). */
  private skip = 0;
  private passedOn = 0;

  constructor(
    private readonly onLine: (line: LogLineEvent) => void,
    private readonly timestamps: boolean,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Frames passed on so far (repeats skipped by a resumed request not counted). */
  get frames(): number {
    return this.passedOn;
  }

  push(chunk: Buffer): void {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 8) {
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off - 8 < size) break;
      const type = buf[off]!;
      const payload = buf.subarray(off + 8, off + 8 + size);
      off += 8 + size;
      if (type === 1) this.frame('stdout', payload);
      else if (type === 2) this.frame('stderr', payload);
      else if (type === 3) this.engineErrors.push(payload.toString('utf8').trim());
      // 0 would be stdin, which a log never carries.
    }
    // Copy the tail so the (possibly large) chunk it came from can be collected.
    this.rest = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
  }

  /** The caller asked for the log from this time on (the first request's `since`). */
  startAt(since: Date): void {
    this.floorUs = since.getTime() * 1000;
  }

  /**
   * Prepares for a new request that continues this one and returns its `since`, or null when
   * nothing has been passed on yet.
   *
   * The new request starts RESUME_MARGIN_US before the newest stamp passed on. The engine
   * returns, in file order, every message stamped at or after `since`; the ones among them that
   * were passed on before come first (they precede the rest in the file), and how many there
   * are is known from `recent`. So exactly that many frames are dropped, whatever their order
   * in time. A frame cut short by a broken connection is discarded: the new request sends it
   * whole.
   */
  resume(): string | null {
    this.rest = Buffer.alloc(0);
    if (this.newest === -Infinity) return null;
    const from = Math.max(this.newest - RESUME_MARGIN_US, this.floorUs);
    let n = 0;
    for (let i = this.head; i < this.recent.length; i++) if (this.recent[i]! >= from) n += 1;
    this.skip = n;
    return microsToSince(from);
  }

  /** Delivers lines that never got their newline, oldest first; the stream has ended. */
  end(): void {
    if (this.rest.length) {
      // A frame cut short by the end of the body: keep what arrived rather than drop it.
      const type = this.rest[0];
      const payload = this.rest.subarray(Math.min(8, this.rest.length));
      this.rest = Buffer.alloc(0);
      if (type === 1) this.frame('stdout', payload);
      else if (type === 2) this.frame('stderr', payload);
    }
    const open = (['stdout', 'stderr'] as const).filter((s) => this.pending[s].parts.length);
    open.sort((a, b) => (this.pending[a].at?.getTime() ?? 0) - (this.pending[b].at?.getTime() ?? 0));
    for (const s of open) this.emit(s, Buffer.alloc(0));
  }

  private frame(stream: LogStream, payload: Buffer): void {
    let body = payload;
    let at: Date | null = null;
    if (this.timestamps) {
      const sp = payload.subarray(0, MAX_STAMP).indexOf(SPACE);
      if (sp > 0 && this.stamps.parse(payload.subarray(0, sp).toString('latin1'))) {
        if (this.skip > 0) {
          this.skip -= 1;
          return;
        }
        at = this.stamps.at;
        body = payload.subarray(sp + 1);
        this.remember(this.stamps.us);
      }
    }
    this.skip = 0;
    this.passedOn += 1;
    at ??= this.now();
    const p = this.pending[stream];
    let start = 0;
    for (let nl = body.indexOf(NEWLINE); nl !== -1; nl = body.indexOf(NEWLINE, start)) {
      p.at ??= at;
      this.emit(stream, body.subarray(start, nl));
      start = nl + 1;
    }
    if (start < body.length) {
      this.hold(p, body.subarray(start));
      p.at ??= at;
    }
  }

  private hold(p: Pending, bytes: Buffer): void {
    p.total += bytes.length;
    const room = MAX_LINE_BYTES - p.size;
    if (room <= 0) return;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    p.parts.push(Buffer.from(kept));
    p.size += kept.length;
  }

  private remember(us: number): void {
    if (us > this.newest) this.newest = us;
    this.recent.push(us);
    // Entries older than the margin can never be at or after a later resume's start.
    const limit = this.newest - RESUME_MARGIN_US;
    while (this.head < this.recent.length && this.recent[this.head]! < limit) this.head += 1;
    if (this.head > 4096 && this.head * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.head);
      this.head = 0;
    }
  }

  private emit(stream: LogStream, last: Buffer): void {
    const p = this.pending[stream];
    let text: string;
    if (p.total + last.length > MAX_LINE_BYTES) {
      this.hold(p, last);
      // A decoder's write() holds back a character the cut went through instead of mangling it.
      text = `${new StringDecoder('utf8').write(Buffer.concat(p.parts))} [… line cut at 1 MiB of ${p.total.toLocaleString('en-US')} bytes]`;
    } else {
      text = (p.parts.length ? Buffer.concat([...p.parts, last]) : last).toString('utf8');
    }
    const at = p.at ?? this.now();
    p.parts = [];
    p.at = null;
    p.size = 0;
    p.total = 0;
    this.onLine({ stream, at, text });
  }
}

/** Marks an exception from the caller's onLine, which must not pass for a broken stream. */
export class CallerError extends Error {
  constructor(override readonly cause: unknown) {
    super('onLine failed');
  }
}

/**
 * A demuxer of a timestamped log whose caller's own failure ends the follow (as CallerError)
 * instead of passing for a broken connection that is retried.
 */
export function callerDemuxer(onLine: (line: LogLineEvent) => void): LogDemuxer {
  return new LogDemuxer((line) => {
    try {
      onLine(line);
    } catch (err) {
      throw new CallerError(err);
    }
  }, true);
}

/**
 * Feeds a whole (not followed) logs answer to the demuxer: dockerode gives a Buffer, or a string
 * for some replies. The caller's own failure comes out as itself, as from a followed stream.
 */
export function pushWholeLog(demux: LogDemuxer, answer: unknown): void {
  try {
    if (Buffer.isBuffer(answer)) demux.push(answer);
    else if (typeof answer === 'string') demux.push(Buffer.from(answer));
  } catch (err) {
    if (err instanceof CallerError) throw err.cause;
    throw err;
  }
}
