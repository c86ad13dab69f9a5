import type { AuditEntry } from '@tc/contracts';
import type { Db } from '../db/database.js';
import { listPage } from '../db/list-query.js';

/** Append-only record of state changes and sign-in attempts. */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  append(e: Omit<AuditEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO audit_log (at, username, action, target, status, ip) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.at, e.username, e.action, e.target, e.status, e.ip);
  }

  list(filter: { username?: string; limit: number; offset: number }): { items: AuditEntry[]; total: number } {
    const { rows, total } = listPage<AuditEntry>(this.db, {
      table: 'audit_log',
      columns: 'id, at, username, action, target, status, ip',
      filter: { username: filter.username },
      orderBy: 'id DESC',
      limit: filter.limit,
      offset: filter.offset,
    });
    return { items: rows, total };
  }
}
