import type { Db } from './database.js';

export interface StoredLogLine {
  seq: number;
  at: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}

/** Log lines per job and node, numbered from 1 without gaps; seq doubles as the read cursor. */
export class LogRepository {
  constructor(private readonly db: Db) {}

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
  }

  page(jobId: number, node: number, afterSeq: number, limit: number): StoredLogLine[] {
    return this.db
      .prepare<[number, number, number, number], StoredLogLine>(
        'SELECT seq, at, stream, text FROM log_lines WHERE job_id = ? AND node = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(jobId, node, afterSeq, limit);
  }

  /**
   * Every line in order as text, a page at a time: memory holds one page, and no cursor stays
   * open on the shared connection (better-sqlite3 refuses other statements while one iterates).
   */
  async *text(jobId: number, node: number, pageSize = 2000): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const rows = this.page(jobId, node, after, pageSize);
      if (rows.length === 0) return;
      yield rows.map((r) => `${r.text}\n`).join('');
      after = rows[rows.length - 1]!.seq;
    }
  }
}
