import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Opens (or creates) the SQLite file and brings its schema up to date. WAL lets readers (the
 * list page, log polling) proceed while the runner writes; the busy timeout covers a second
 * process (a CLI, a test) touching the same file.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Applies each migration not yet applied, each in its own transaction; user_version records the level. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const [i, sql] of MIGRATIONS.entries()) {
    const level = i + 1;
    if (level <= current) continue;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${level}`);
    })();
  }
}
