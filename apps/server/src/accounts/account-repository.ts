import type { Role } from '@tc/contracts';
import type { Db } from '../db/database.js';

export interface UserRecord {
  id: number;
  username: string;
  passwordHash: string;
  role: Role;
  createdAt: string;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: string;
  created_at: string;
}

const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role as Role,
  createdAt: r.created_at,
});

export interface SessionRecord {
  user: UserRecord;
  csrfToken: string;
  expiresAt: string;
}

export interface ApiTokenRecord {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface TokenRow {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
}

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

/** Users, their sessions and API tokens. Session and token values arrive here already hashed. */
export class AccountRepository {
  constructor(private readonly db: Db) {}

  countUsers(): number {
    return this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users').get()!.n;
  }

  /** null when the username is taken. */
  createUser(u: { username: string; passwordHash: string; role: Role; createdAt: string }): UserRecord | null {
    const info = this.db
      .prepare('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (username) DO NOTHING')
      .run(u.username, u.passwordHash, u.role, u.createdAt);
    return info.changes ? this.userById(Number(info.lastInsertRowid)) : null;
  }

  /**
   * The first admin, and only while there are no users: the check and the insert share one
   * write transaction, so two setup requests cannot both succeed. What was made before accounts
   * existed becomes theirs.
   */
  createFirstAdmin(u: { username: string; passwordHash: string; createdAt: string }): UserRecord | null {
    const tx = this.db.transaction(() => {
      if (this.countUsers() > 0) return null;
      const user = this.createUser({ ...u, role: 'admin' })!;
      for (const table of ['jobs', 'training_job_configs', 'notification_topics', 'datasets']) {
        this.db.prepare(`UPDATE ${table} SET owner_id = ? WHERE owner_id IS NULL`).run(user.id);
      }
      return user;
    });
    return tx.immediate();
  }

  userById(id: number): UserRecord | null {
    const row = this.db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?').get(id);
    return row ? toUser(row) : null;
  }

  userByName(username: string): UserRecord | null {
    const row = this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?').get(username);
    return row ? toUser(row) : null;
  }

  listUsers(): UserRecord[] {
    return this.db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username').all().map(toUser);
  }

  countAdmins(): number {
    return this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM users WHERE role = 'admin'").get()!.n;
  }

  deleteUser(id: number): void {
    this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
  }

  /**
   * A new password ends every session of the user but `keepSession` (the one making the change,
   * if it is a session), and with `revokeTokens` every API token too; one transaction, so no
   * session outlives the change by a race. Returns what was ended.
   */
  setPassword(
    id: number,
    passwordHash: string,
    opts: { keepSession: string | null; revokeTokens: boolean },
  ): { sessionsEnded: number; tokensRevoked: number } {
    return this.db.transaction(() => {
      this.db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, id);
      const sessionsEnded = this.db
        .prepare('DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?')
        .run(id, opts.keepSession).changes;
      const tokensRevoked = opts.revokeTokens ? this.db.prepare('DELETE FROM api_tokens WHERE user_id = ?').run(id).changes : 0;
      return { sessionsEnded, tokensRevoked };
    })();
  }

  createSession(s: { tokenHash: string; userId: number; csrfToken: string; createdAt: string; expiresAt: string }): void {
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(s.tokenHash, s.userId, s.csrfToken, s.createdAt, s.expiresAt);
  }

  /** The session if it exists and has not expired at `now`. */
  session(tokenHash: string, now: string): SessionRecord | null {
    const row = this.db
      .prepare<[string, string], UserRow & { csrf_token: string; expires_at: string }>(
        `SELECT u.*, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.expires_at > ?`,
      )
      .get(tokenHash, now);
    return row ? { user: toUser(row), csrfToken: row.csrf_token, expiresAt: row.expires_at } : null;
  }

  extendSession(tokenHash: string, expiresAt: string): void {
    this.db.prepare('UPDATE sessions SET expires_at = ? WHERE token_hash = ?').run(expiresAt, tokenHash);
  }

  deleteSession(tokenHash: string): void {
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
  }

  deleteExpiredSessions(now: string): void {
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }

  createToken(t: { userId: number; name: string; prefix: string; tokenHash: string; createdAt: string }): ApiTokenRecord {
    const info = this.db
      .prepare('INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(t.userId, t.name, t.prefix, t.tokenHash, t.createdAt);
    return toToken(this.db.prepare<[number], TokenRow>('SELECT * FROM api_tokens WHERE id = ?').get(Number(info.lastInsertRowid))!);
  }

  /** The token's user, recording the use (at most once a minute, to spare writes on polling scripts). */
  userByToken(tokenHash: string, now: string): UserRecord | null {
    const row = this.db
      .prepare<[string], UserRow & { token_id: number; last_used_at: string | null }>(
        'SELECT u.*, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?',
      )
      .get(tokenHash);
    if (!row) return null;
    if (!row.last_used_at || Date.parse(now) - Date.parse(row.last_used_at) > 60_000) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, row.token_id);
    }
    return toUser(row);
  }

  tokens(userId: number): ApiTokenRecord[] {
    return this.db.prepare<[number], TokenRow>('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY id').all(userId).map(toToken);
  }

  /** false when the user has no such token. */
  deleteToken(userId: number, id: number): boolean {
    return this.db.prepare('DELETE FROM api_tokens WHERE id = ? AND user_id = ?').run(id, userId).changes > 0;
  }
}
