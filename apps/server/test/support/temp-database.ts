import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';

const open: { db: Db; dir: string }[] = [];

// Registered once per test file that imports this module: each test's database is closed and
// its folder removed, so a failing test leaves nothing behind for the next.
afterEach(() => {
  for (const { db, dir } of open.splice(0)) {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A real SQLite file with every migration applied, in a folder of its own: the fast tests run
 * the same SQL as production (constraints, transactions, WAL) and stay well under a second.
 */
export function tempDatabase(): Db {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-unit-'));
  const db = openDatabase(path.join(dir, 'console.db'));
  open.push({ db, dir });
  return db;
}
