import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../db/database.js';
import { AccountRepository } from '../db/account-repository.js';
import { AuditRepository } from '../db/audit-repository.js';
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
