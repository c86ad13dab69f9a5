import type { AuditEntry } from '@tc/contracts';
import type { Db } from './database.js';

/** Append-only record of state changes and sign-in attempts. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  append(e: Omit<AuditEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO audit_log (at, username, action, target, status, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.username, e.action, e.target, e.status, e.ip);
  }

  list(filter: { username?: string; limit: number; offset: number }): { items: AuditEntry[]; total: number } {
    const clause = filter.username ? 'WHERE username = ?' : '';
    const args = filter.username ? [filter.username] : [];
    const { n } = this.db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM audit_log ${clause}`).get(...args)!;
    const items = this.db
      .prepare<unknown[], AuditEntry>(
        `SELECT id, at, username, action, target, status, ip FROM audit_log ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`,
      )
      .all(...args, filter.limit, filter.offset);
    return { items, total: n };
  }
}
