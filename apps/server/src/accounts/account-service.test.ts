import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../db/database.js';
import { AccountRepository } from './account-repository.js';
import { AuditRepository } from './audit-repository.js';
import { AccountService } from './account-service.js';

const IDLE_MS = 30 * 60_000;

async function signedIn() {
  const db = openDatabase(':memory:');
  const accounts = new AccountService({
    accounts: new AccountRepository(db),
    audit: new AuditRepository(db),
    sessionIdleMs: IDLE_MS,
    setupCodeFile: path.join(os.tmpdir(), 'unused-setup-code'),
    log: { warn: () => undefined, info: () => undefined },
  });
  await accounts.bootstrap('admin-password-1');
  const { cookieValue } = await accounts.signIn({ username: 'admin', password: 'admin-password-1' });
  return { accounts, cookieValue };
}

afterEach(() => vi.useRealTimers());

describe('sessions', () => {
  it('end after the idle time without a request, and each use moves the end', async () => {
    const { accounts, cookieValue } = await signedIn();
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    vi.setSystemTime(t0 + IDLE_MS - 60_000);
    expect(accounts.session(cookieValue)?.actor.username).toBe('admin');
    // Used just before it would have ended: it now lasts the idle time from that use.
    vi.setSystemTime(t0 + IDLE_MS + 10 * 60_000);
    expect(accounts.session(cookieValue)).not.toBeNull();
    vi.setSystemTime(t0 + 3 * IDLE_MS);
    expect(accounts.session(cookieValue)).toBeNull();
  });

  it('are unknown for any other cookie value', async () => {
    const { accounts, cookieValue } = await signedIn();
    expect(accounts.session(`${cookieValue}x`)).toBeNull();
    accounts.signOut(cookieValue);
    expect(accounts.session(cookieValue)).toBeNull();
  });
});

describe('a password change', () => {
  const actorOf = (accounts: AccountService, cookie: string) => accounts.session(cookie)!.actor;

  it('keeps the session that made it, ends the other sessions, and keeps the tokens unless asked', async () => {
    const { accounts, cookieValue } = await signedIn();
    const other = (await accounts.signIn({ username: 'admin', password: 'admin-password-1' })).cookieValue;
    const third = (await accounts.signIn({ username: 'admin', password: 'admin-password-1' })).cookieValue;
    const actor = actorOf(accounts, cookieValue);
    const token = accounts.createToken(actor, { name: 'ci' }).token;

    const changed = await accounts.changePassword(
      actor,
      { currentPassword: 'admin-password-1', newPassword: 'admin-password-2' },
      cookieValue,
    );
    expect(changed).toEqual({ sessionsEnded: 2, tokensRevoked: 0 });
    expect(accounts.session(cookieValue)?.actor.username).toBe('admin');
    expect(accounts.session(other)).toBeNull();
    expect(accounts.session(third)).toBeNull();
    expect(accounts.tokenUser(token)?.username).toBe('admin');
  });

  it('revokes every API token when asked, and ends every session when made with a token', async () => {
    const { accounts, cookieValue } = await signedIn();
    const actor = actorOf(accounts, cookieValue);
    const tokens = [accounts.createToken(actor, { name: 'a' }).token, accounts.createToken(actor, { name: 'b' }).token];

    const changed = await accounts.changePassword(actor, {
      currentPassword: 'admin-password-1',
      newPassword: 'admin-password-2',
      revokeTokens: true,
    });
    expect(changed).toEqual({ sessionsEnded: 1, tokensRevoked: 2 });
    expect(accounts.session(cookieValue)).toBeNull();
    for (const t of tokens) expect(accounts.tokenUser(t)).toBeNull();
  });
});
