import type { Db } from '../db/database.js';

export interface StoredLogLine {
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/**
 * Where a node's log was cut to stay under its size limit (see LogSink): lines 1..headEnd are
 * the head, the marker line stands at markerSeq in place of the last line dropped, and the
 * lines after it are the tail. Dropped counts are of the job's own output (text + newline).
 */
export interface LogCapState {
  /** null while every stored line still fits in the head. */
  headEnd: number | null;
  /** null until the first line is dropped. */
  markerSeq: number | null;
  droppedLines: number;
  droppedBytes: number;
}

/** One stored line's size, for choosing which tail lines to drop. */
export interface LineSize {
  seq: number;
  at: string;
  stream: StoredLogLine['stream'];
  bytes: number;
}

/**
 * Log lines per job and node, numbered from 1 in the order they came; seq doubles as the read
 * cursor. A capped log has one gap, between its head and its tail, where the marker line stands:
 * seqs never change and a cursor stays valid, it just skips the lines dropped meanwhile.
 */
export class LogRepository {
  /** Who follows which node's log ("jobId:node"): live readers (log streams) are woken when lines are stored. */
  private readonly followers = new Map<string, Set<() => void>>();

  /** Who reads every stored line (metrics): see onEveryAppend. */
  private readonly lineReaders = new Set<(jobId: number, node: number, lines: readonly StoredLogLine[]) => void>();

  constructor(private readonly db: Db) {}

  /**
   * Calls `listener` with every batch of lines stored, of any job and node, often inside the
   * writer's transaction: like onAppend's, it must only take note and do its work later.
   * Returns the unsubscribe.
   */
  onEveryAppend(listener: (jobId: number, node: number, lines: readonly StoredLogLine[]) => void): () => void {
    this.lineReaders.add(listener);
    return () => this.lineReaders.delete(listener);
  }

  /**
   * Calls `listener` whenever lines of this node are stored, often inside the writer's
   * transaction: it must only take note and read later (a microtask or timer), not here.
   * Returns the unsubscribe.
   */
  onAppend(jobId: number, node: number, listener: () => void): () => void {
    const key = `${jobId}:${node}`;
    const set = this.followers.get(key) ?? new Set<() => void>();
    this.followers.set(key, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.followers.get(key) === set) this.followers.delete(key);
    };
  }

  lastSeq(jobId: number, node: number): number {
    const r = this.db
      .prepare<[number, number], { s: number | null }>('SELECT MAX(seq) AS s FROM log_lines WHERE job_id = ? AND node = ?')
      .get(jobId, node)!;
    return r.s ?? 0;
  }

  /**
   * Where the container's part of a node's log ends: the stamp of its last line and how many
   * stored lines share that stamp. Platform lines are left out: the engine never repeats them.
   */
  resumePoint(jobId: number, node: number): { at: string; count: number } | null {
    const last = this.db
      .prepare<[number, number], { at: string }>(
        "SELECT at FROM log_lines WHERE job_id = ? AND node = ? AND stream != 'system' ORDER BY seq DESC LIMIT 1",
      )
      .get(jobId, node);
    if (!last) return null;
    const { n } = this.db
      .prepare<[number, number, string], { n: number }>(
        "SELECT COUNT(*) AS n FROM log_lines WHERE job_id = ? AND node = ? AND stream != 'system' AND at = ?",
      )
      .get(jobId, node, last.at)!;
    return { at: last.at, count: n };
  }

  /** Appends in one transaction; the caller assigns consecutive seqs. */
  append(jobId: number, node: number, lines: readonly StoredLogLine[]): void {
    if (lines.length === 0) return;
    const insert = this.db.prepare('INSERT INTO log_lines (job_id, node, seq, at, stream, text) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const l of lines) insert.run(jobId, node, l.seq, l.at, l.stream, l.text);
    })();
    const set = this.followers.get(`${jobId}:${node}`);
    if (set) for (const wake of set) wake();
    for (const read of this.lineReaders) read(jobId, node, lines);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  capState(jobId: number, node: number): LogCapState | null {
    return (
      this.db
        .prepare<[number, number], LogCapState>(
          'SELECT head_end AS headEnd, marker_seq AS markerSeq, dropped_lines AS droppedLines, dropped_bytes AS droppedBytes FROM log_caps WHERE job_id = ? AND node = ?',
        )
        .get(jobId, node) ?? null
    );
  }

  saveCapState(jobId: number, node: number, s: LogCapState): void {
    this.db
      .prepare(
        `INSERT INTO log_caps (job_id, node, head_end, marker_seq, dropped_lines, dropped_bytes) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id, node) DO UPDATE SET head_end = excluded.head_end, marker_seq = excluded.marker_seq,
           dropped_lines = excluded.dropped_lines, dropped_bytes = excluded.dropped_bytes`,
      )
      .run(jobId, node, s.headEnd, s.markerSeq, s.droppedLines, s.droppedBytes);
  }

  /** UTF-8 bytes of the lines after `afterSeq`, plus `perLine` for each; one aggregate, no rows read out. */
  storedBytes(jobId: number, node: number, afterSeq: number, perLine: number): number {
    const r = this.db
      .prepare<[number, number, number, number], { n: number | null }>(
        'SELECT SUM(length(CAST(text AS BLOB)) + ?) AS n FROM log_lines WHERE job_id = ? AND node = ? AND seq > ?',
      )
      .get(perLine, jobId, node, afterSeq)!;
    return r.n ?? 0;
  }

  /** The sizes of up to `limit` lines after `afterSeq`, oldest first. */
  sizes(jobId: number, node: number, afterSeq: number, limit: number): LineSize[] {
    return this.db
      .prepare<[number, number, number, number], LineSize>(
        'SELECT seq, at, stream, length(CAST(text AS BLOB)) AS bytes FROM log_lines WHERE job_id = ? AND node = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(jobId, node, afterSeq, limit);
  }

  /**
   * Deletes lines fromSeq..toSeq and stores `marker` in their place (its seq is within the range).
   * SQLite puts the freed pages on its free list and fills them with later lines, so a log that
   * keeps being cut stops growing the database file; no VACUUM is needed.
   */
  replaceRange(jobId: number, node: number, fromSeq: number, toSeq: number, marker: StoredLogLine): void {
    this.db.prepare('DELETE FROM log_lines WHERE job_id = ? AND node = ? AND seq BETWEEN ? AND ?').run(jobId, node, fromSeq, toSeq);
    this.append(jobId, node, [marker]);
  }

  /**
   * The last `count` lines of one stream, oldest first, looked for among the node's last
   * `within` lines only, so a job that wrote nothing to that stream costs a bounded scan.
   */
  lastLines(jobId: number, node: number, stream: StoredLogLine['stream'], count: number, within = 2000): string[] {
    const rows = this.db
      .prepare<[number, number, string, number, number, number, number], { text: string }>(
        `SELECT text FROM log_lines WHERE job_id = ? AND node = ? AND stream = ?
           AND seq > (SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE job_id = ? AND node = ?) - ?
         ORDER BY seq DESC LIMIT ?`,
      )
      .all(jobId, node, stream, jobId, node, within, count);
    return rows.map((r) => r.text).reverse();
  }

  page(jobId: number, node: number, afterSeq: number, limit: number): StoredLogLine[] {
    return this.db
      .prepare<[number, number, number, number], StoredLogLine>(
        'SELECT seq, at, stream, text FROM log_lines WHERE job_id = ? AND node = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(jobId, node, afterSeq, limit);
  }

  /**
   * Like page, but stops once the lines hold `maxChars` of text (at least one line is returned):
   * a page of long lines stays small in memory. Rows are read one by one and the statement is
   * reset when the loop leaves it, so no cursor stays open.
   */
  pageWithin(jobId: number, node: number, afterSeq: number, limit: number, maxChars: number): StoredLogLine[] {
    const out: StoredLogLine[] = [];
    let chars = 0;
    const rows = this.db
      .prepare<[number, number, number, number], StoredLogLine>(
        'SELECT seq, at, stream, text FROM log_lines WHERE job_id = ? AND node = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .iterate(jobId, node, afterSeq, limit);
    for (const r of rows) {
      out.push(r);
      chars += r.text.length;
      if (chars >= maxChars) break;
    }
    return out;
  }

  /**
   * Every line in order as text, a page at a time: memory holds one page, and no cursor stays
   * open on the shared connection (better-sqlite3 refuses other statements while one iterates).
   */
  async *text(
    jobId: number,
    node: number,
    pageSize = 2000,
    range: { from: number; until: number | null } = { from: 1, until: null },
  ): AsyncGenerator<string> {
    let after = range.from - 1;
    for (;;) {
      let rows = this.page(jobId, node, after, pageSize);
      // Within one attempt's lines (see JobRepository.attempts): up to the next attempt's first.
      const end = range.until;
      if (end !== null) rows = rows.filter((r) => r.seq < end);
      if (rows.length === 0) return;
      yield rows.map((r) => `${r.text}\n`).join('');
      after = rows[rows.length - 1]!.seq;
    }
  }
}
