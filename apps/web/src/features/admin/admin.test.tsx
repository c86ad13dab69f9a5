import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { AuditEntry, Session, User } from '@tc/contracts';
import { forgetSession } from '../../api/client';
import { json, renderRoutes, routeFetch, sentHeaders } from '../../test-utils';
import { RequireAdmin, RequireSession } from '../auth/session';
import { AUDIT_PAGE_SIZE, AuditLogPage } from './AuditLogPage';
import { UsersPage } from './UsersPage';

const admin: Session = {
  user: { username: 'admin', role: 'admin', createdAt: '2025-11-28T10:00:00.000Z' },
  csrfToken: 'csrf-admin',
  expiresAt: '2025-11-28T22:00:00.000Z',
};
const bob: User = { username: 'bob', role: 'user', createdAt: '2025-11-28T11:00:00.000Z' };

const gated = (page: React.ReactNode) => (
  <RequireSession>
    <RequireAdmin>{page}</RequireAdmin>
  </RequireSession>
);
const routes = [
  { path: '/admin/users', element: gated(<UsersPage />) },
  { path: '/admin/audit-log', element: gated(<AuditLogPage />) },
];

const cells = (row: HTMLElement) =>
  within(row)
    .getAllByRole('cell')
    .map((td) => td.textContent);

afterEach(() => {
  cleanup();
  forgetSession();
  vi.unstubAllGlobals();
});

describe('UsersPage', () => {
  it('lists users, offers Delete for others only, and deletes after a confirmation', async () => {
    let users = [admin.user, bob];
    routeFetch({
      'GET /api/v1/auth/session': () => json(admin),
      'GET /api/v1/users': () => json({ items: users, total: users.length }),
      'DELETE /api/v1/users/bob': () => {
        users = [admin.user];
        return new Response(null, { status: 204 });
      },
    });
    renderRoutes(routes, '/admin/users');
    const table = await screen.findByRole('table', { name: 'Users' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Username', 'Role', 'Created', 'Operation']);
    const [me, other] = within(table).getAllByRole('row').slice(1);
    expect(cells(me!).slice(0, 2)).toEqual(['admin', 'admin']);
    expect(within(me!).queryByRole('button')).toBeNull();
    expect(cells(other!).slice(0, 2)).toEqual(['bob', 'user']);

    fireEvent.click(within(other!).getByRole('button', { name: 'Delete bob' }));
    fireEvent.click(within(await screen.findByRole('dialog', { name: 'Delete bob?' })).getByRole('button', { name: 'Delete user' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Delete bob' })).toBeNull());
    expect(sentHeaders('DELETE', '/api/v1/users/bob')[0]!.get('x-csrf-token')).toBe('csrf-admin');
  });

  it('creates a user with the chosen role, and shows what the server refused', async () => {
    let users = [admin.user];
    let taken = false;
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => json(admin),
      'GET /api/v1/users': () => json({ items: users, total: users.length }),
      'POST /api/v1/users': () => {
        if (taken) return json({ error: 'conflict', message: 'a user named carol already exists' }, 409);
        users = [...users, { username: 'carol', role: 'admin', createdAt: '2025-11-28T12:00:00.000Z' }];
        return json(users.at(-1), 201);
      },
    });
    renderRoutes(routes, '/admin/users');
    const form = await screen.findByRole('form', { name: 'Create user' });
    expect((within(form).getByLabelText('Role') as HTMLSelectElement).value).toBe('user');
    fireEvent.change(within(form).getByLabelText('Username'), { target: { value: 'Carol!' } });
    fireEvent.change(within(form).getByLabelText('Password'), { target: { value: 'short' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create User' }));
    expect(await within(form).findByText(/a username is 2-32 lowercase letters/)).toBeTruthy();
    expect(within(form).getByText('a password has at least 10 characters')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    fireEvent.change(within(form).getByLabelText('Username'), { target: { value: 'carol' } });
    fireEvent.change(within(form).getByLabelText('Password'), { target: { value: 'carol-password-1' } });
    fireEvent.change(within(form).getByLabelText('Role'), { target: { value: 'admin' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create User' }));
    const table = screen.getByRole('table', { name: 'Users' });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(3));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ username: 'carol', password: 'carol-password-1', role: 'admin' });
    expect((within(form).getByLabelText('Username') as HTMLInputElement).value).toBe('');

    taken = true;
    fireEvent.change(within(form).getByLabelText('Username'), { target: { value: 'carol' } });
    fireEvent.change(within(form).getByLabelText('Password'), { target: { value: 'carol-password-1' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Create User' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('A user named carol already exists');
  });
});

describe('AuditLogPage', () => {
  const entry = (id: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
    id,
    at: '2025-11-28T12:00:00.000Z',
    username: 'bob',
    action: 'POST /api/v1/auth/tokens',
    target: '/api/v1/auth/tokens (name nightly)',
    status: 201,
    ip: '127.0.0.1',
    ...over,
  });

  it('shows the entries newest first as the server sends them, filters by user, and pages', async () => {
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => json(admin),
      'GET /api/v1/audit-log': ({ url }) => {
        const q = new URL(url, 'http://x').searchParams;
        if (q.get('username') === 'nobody') return json({ items: [], total: 0 });
        const page = Number(q.get('page'));
        return json({
          items: page === 2 ? [entry(1, { username: null, action: 'sign-in failed', status: 401 })] : [entry(3), entry(2)],
          total: AUDIT_PAGE_SIZE + 1,
        });
      },
    });
    renderRoutes(routes, '/admin/audit-log');
    const table = await screen.findByRole('table', { name: 'Audit log' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Time', 'User', 'Action', 'Target', 'Status', 'IP']);
    const first = within(table).getAllByRole('row')[1]!;
    expect(cells(first).slice(1)).toEqual([
      'bob',
      'Created API token nightlyPOST /api/v1/auth/tokens',
      '/api/v1/auth/tokens (name nightly)',
      '201',
      '127.0.0.1',
    ]);

    fireEvent.click(screen.getByRole('button', { name: 'Page 2' }));
    await waitFor(() => expect(within(screen.getByRole('table', { name: 'Audit log' })).getAllByRole('row')).toHaveLength(2));
    const only = within(screen.getByRole('table', { name: 'Audit log' })).getAllByRole('row')[1]!;
    expect(cells(only).slice(1, 3)).toEqual(['anonymous', 'sign-in failed']);
    expect(calls.at(-1)?.url).toBe(`/api/v1/audit-log?page=2&pageSize=${AUDIT_PAGE_SIZE}`);

    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'nobody' } });
    expect(await screen.findByRole('heading', { name: 'No entries for nobody' })).toBeTruthy();
    expect(calls.at(-1)?.url).toBe(`/api/v1/audit-log?username=nobody&page=1&pageSize=${AUDIT_PAGE_SIZE}`);
  });

  it('shows an error with retry', async () => {
    let fail = true;
    routeFetch({
      'GET /api/v1/auth/session': () => json(admin),
      'GET /api/v1/audit-log': () => (fail ? json({ error: 'internal', message: 'boom' }, 500) : json({ items: [], total: 0 })),
    });
    renderRoutes(routes, '/admin/audit-log');
    expect((await screen.findByRole('alert')).textContent).toContain('boom');
    fail = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'No entries yet' })).toBeTruthy();
  });
});
