import type { Db } from './database.js';

/** What the list pages filter on; each is optional and they combine with AND. */
export interface ListFilter {
  /** Only this user's rows; undefined: everyone's. */
  ownerId?: number;
  /** Substring of the name; the user's % and _ are literal. */
  name?: string;
  status?: string;
  /** jobs: the class of the failure (failure_class). */
  failureClass?: string;
  /** jobs: only each name's latest version (is_latest). */
  latestOnly?: boolean;
  username?: string;
}

/** The WHERE clause (or '') and its arguments for a filter. */
export function whereOf(f: ListFilter): { clause: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (f.ownerId !== undefined) {
    where.push('owner_id = ?');
    args.push(f.ownerId);
  }
  if (f.name) {
    where.push("name LIKE ? ESCAPE '\\'");
    args.push(`%${f.name.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (f.status) {
    where.push('status = ?');
    args.push(f.status);
  }
  if (f.latestOnly) where.push('is_latest = 1');
  if (f.failureClass) {
    where.push('failure_class = ?');
    args.push(f.failureClass);
  }
  if (f.username) {
    where.push('username = ?');
    args.push(f.username);
  }
  return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/** One page of `SELECT <columns> FROM <table>` under the filter, and how many rows match in all. */
export function listPage<Row>(
  db: Db,
  q: { table: string; columns?: string; filter: ListFilter; orderBy: string; limit: number; offset: number },
): { rows: Row[]; total: number } {
  const { clause, args } = whereOf(q.filter);
  const { n } = db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM ${q.table} ${clause}`).get(...args)!;
  const rows = db
    .prepare<unknown[], Row>(`SELECT ${q.columns ?? '*'} FROM ${q.table} ${clause} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`)
    .all(...args, q.limit, q.offset);
  return { rows, total: n };
}
