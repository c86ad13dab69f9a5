import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import type {
  ApiToken,
  ApiTokenList,
  AuditLog,
  AuditQuery,
  ChangePasswordRequest,
  CreateApiTokenRequest,
  CreatedApiToken,
  CreateUserRequest,
  PasswordChanged,
  Session,
  SetupRequest,
  SignInRequest,
  User,
  UserList,
} from '@tc/contracts';
import type { AccountRepository, ApiTokenRecord, UserRecord } from './account-repository.js';
import type { AuditRepository } from './audit-repository.js';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, UnauthorizedError } from '../errors.js';
import type { Actor } from './actor.js';
import { decoyHash, hashPassword, verifyPassword } from './password.js';

export interface AccountServiceDeps {
  accounts: AccountRepository;
  audit: AuditRepository;
  /** A session ends after this long without a request. */
  sessionIdleMs: number;
  /** Where the one-time setup code is also written (0600), for whoever runs the server without reading its log. */
  setupCodeFile: string;
  log: { warn(msg: string): void; info(msg: string): void };
}

/** What a sign-in hands the HTTP layer: the cookie value (never stored) and the session to show. */
export interface SignedIn {
  cookieValue: string;
  session: Session;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const secret = () => randomBytes(32).toString('base64url');
const TOKEN_PREFIX = 'tct_';

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const toUser = (u: UserRecord): User => ({ username: u.username, role: u.role, createdAt: u.createdAt });
const toActor = (u: UserRecord): Actor => ({ userId: u.id, username: u.username, admin: u.role === 'admin' });
const toToken = (t: ApiTokenRecord): ApiToken => ({
  id: String(t.id),
  name: t.name,
  prefix: t.prefix,
  createdAt: t.createdAt,
  lastUsedAt: t.lastUsedAt,
});

/**
 * Accounts: the first admin, sign-in and sessions, API tokens, users, and reading the audit log.
 * Cookie and token values are random 256-bit strings; only their SHA-256 is stored (they are not
 * guessable, so a slow hash adds nothing there; passwords get scrypt).
 */
export class AccountService {
  private setupCode: string | null = null;

  constructor(private readonly d: AccountServiceDeps) {}

  /**
   * First start: with ADMIN_PASSWORD, the admin "admin" is made from it; without, a one-time
   * setup code goes to the log and to `setupCodeFile`, and the setup page asks for it, so only
   * whoever can read the server's log or data folder can claim the console.
   */
  async bootstrap(adminPassword: string | undefined): Promise<{ created: boolean; setupCode: string | null }> {
    if (this.d.accounts.countUsers() > 0) return { created: false, setupCode: null };
    if (adminPassword) {
      const made = this.d.accounts.createFirstAdmin({
        username: 'admin',
        passwordHash: await hashPassword(adminPassword),
        createdAt: new Date().toISOString(),
      });
      if (made) this.d.log.info('created the admin account "admin" from ADMIN_PASSWORD');
      return { created: made !== null, setupCode: null };
    }
    this.setupCode = randomBytes(12).toString('base64url');
    writeFileSync(this.d.setupCodeFile, `${this.setupCode}\n`, { mode: 0o600 });
    this.d.log.warn(
      `no accounts yet: open /setup in the console and enter the setup code ${this.setupCode} (also in ${this.d.setupCodeFile})`,
    );
    return { created: false, setupCode: this.setupCode };
  }

  setupRequired(): boolean {
    return this.d.accounts.countUsers() === 0;
  }

  async setup(req: SetupRequest): Promise<SignedIn> {
    if (!this.setupCode || !this.setupRequired()) throw new ConflictError('the console is already set up; sign in instead');
    if (!sameText(req.setupCode, this.setupCode)) {
      throw new InvalidInputError([{ path: 'setupCode', message: 'this is not the setup code the server printed to its log' }]);
    }
    const user = this.d.accounts.createFirstAdmin({
      username: req.username,
      passwordHash: await hashPassword(req.password),
      createdAt: new Date().toISOString(),
    });
    if (!user) throw new ConflictError('the console is already set up; sign in instead');
    this.setupCode = null;
    rmSync(this.d.setupCodeFile, { force: true });
    return this.startSession(user);
  }

  async signIn(req: SignInRequest): Promise<SignedIn> {
    const user = this.d.accounts.userByName(req.username);
    const ok = await verifyPassword(req.password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !ok) throw new UnauthorizedError('wrong username or password');
    return this.startSession(user);
  }

  signOut(cookieValue: string): void {
    this.d.accounts.deleteSession(sha256(cookieValue));
  }

  /** The session behind a cookie, extended by this use; null when unknown or expired. */
  session(cookieValue: string): { actor: Actor; session: Session } | null {
    const hash = sha256(cookieValue);
    const now = Date.now();
    const found = this.d.accounts.session(hash, new Date(now).toISOString());
    if (!found) return null;
    let expiresAt = found.expiresAt;
    // Extending on every request would write on every poll; once a minute is as good.
    if (Date.parse(expiresAt) - now < this.d.sessionIdleMs - 60_000) {
      expiresAt = new Date(now + this.d.sessionIdleMs).toISOString();
      this.d.accounts.extendSession(hash, expiresAt);
    }
    return { actor: toActor(found.user), session: { user: toUser(found.user), csrfToken: found.csrfToken, expiresAt } };
  }

  /** The user of an API token; null when it is unknown or revoked. */
  tokenUser(token: string): Actor | null {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const user = this.d.accounts.userByToken(sha256(token), new Date().toISOString());
    return user ? toActor(user) : null;
  }

  me(actor: Actor): User {
    return toUser(this.user(actor.userId));
  }

  /**
   * Sets a new password. Whoever knew the old one may hold a session elsewhere: those end. The
   * session making the change (`currentCookie`, absent for a token request) stays, since it has
   * just proved the password; tokens end only when asked, as scripts would stop with them.
   */
  async changePassword(actor: Actor, req: ChangePasswordRequest, currentCookie?: string): Promise<PasswordChanged> {
    const user = this.user(actor.userId);
    if (!(await verifyPassword(req.currentPassword, user.passwordHash))) {
      throw new InvalidInputError([{ path: 'currentPassword', message: 'this is not your current password' }]);
    }
    return this.d.accounts.setPassword(user.id, await hashPassword(req.newPassword), {
      keepSession: currentCookie ? sha256(currentCookie) : null,
      revokeTokens: req.revokeTokens === true,
    });
  }

  tokens(actor: Actor): ApiTokenList {
    return { items: this.d.accounts.tokens(actor.userId).map(toToken) };
  }

  createToken(actor: Actor, req: CreateApiTokenRequest): CreatedApiToken {
    const token = `${TOKEN_PREFIX}${secret()}`;
    const made = this.d.accounts.createToken({
      userId: actor.userId,
      name: req.name,
      prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      tokenHash: sha256(token),
      createdAt: new Date().toISOString(),
    });
    return { ...toToken(made), token };
  }

  /**
   * A fresh token named `name` for the user, replacing any earlier one of that name (the demo's
   * start prints one each time; they do not pile up). null when there is no such user.
   */
  replaceToken(username: string, name: string): CreatedApiToken | null {
    const user = this.d.accounts.userByName(username);
    if (!user) return null;
    const actor = toActor(user);
    for (const t of this.d.accounts.tokens(user.id)) if (t.name === name) this.d.accounts.deleteToken(user.id, t.id);
    return this.createToken(actor, { name });
  }

  revokeToken(actor: Actor, id: string): void {
    if (!this.d.accounts.deleteToken(actor.userId, Number(id))) throw new NotFoundError(`you have no API token ${id}`);
  }

  users(actor: Actor): UserList {
    this.requireAdmin(actor);
    const items = this.d.accounts.listUsers().map(toUser);
    return { items, total: items.length };
  }

  async createUser(actor: Actor, req: { username: string; password: string; role: NonNullable<CreateUserRequest['role']> }): Promise<User> {
    this.requireAdmin(actor);
    const made = this.d.accounts.createUser({
      username: req.username,
      passwordHash: await hashPassword(req.password),
      role: req.role,
      createdAt: new Date().toISOString(),
    });
    if (!made) throw new ConflictError(`a user named ${req.username} already exists`);
    return toUser(made);
  }

  /** Ends the user's sessions and tokens; what they made stays, visible to admins. */
  deleteUser(actor: Actor, username: string): void {
    this.requireAdmin(actor);
    const user = this.d.accounts.userByName(username);
    if (!user) throw new NotFoundError(`there is no user ${username}`);
    if (user.id === actor.userId) throw new ConflictError('you cannot delete your own account');
    this.d.accounts.deleteUser(user.id);
  }

  audit(actor: Actor, q: AuditQuery): AuditLog {
    this.requireAdmin(actor);
    return this.d.audit.list({ username: q.username, limit: q.pageSize, offset: (q.page - 1) * q.pageSize });
  }

  private startSession(user: UserRecord): SignedIn {
    const cookieValue = secret();
    const now = Date.now();
    const csrfToken = secret();
    const expiresAt = new Date(now + this.d.sessionIdleMs).toISOString();
    this.d.accounts.deleteExpiredSessions(new Date(now).toISOString());
    this.d.accounts.createSession({
      tokenHash: sha256(cookieValue),
      userId: user.id,
      csrfToken,
      createdAt: new Date(now).toISOString(),
      expiresAt,
    });
    return { cookieValue, session: { user: toUser(user), csrfToken, expiresAt } };
  }

  private user(id: number): UserRecord {
    const user = this.d.accounts.userById(id);
    if (!user) throw new UnauthorizedError('this account no longer exists');
    return user;
  }

  private requireAdmin(actor: Actor): void {
    if (!actor.admin) throw new ForbiddenError('only an admin may do this');
  }
}
