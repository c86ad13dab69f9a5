import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, within } from '@testing-library/react';
import type { ApiToken, Session } from '@tc/contracts';
import { forgetSession } from '../../api/client';
import { here, json, renderRoutes, routeFetch, sentHeaders } from '../../test-utils';
import { RequireSession } from '../auth/session';
import { SignInPage } from '../auth/SignInPage';
import { AccountPage } from './AccountPage';

const session: Session = {
  user: { username: 'bob', role: 'user', createdAt: '2025-11-28T10:00:00.000Z' },
  csrfToken: 'csrf-bob',
  expiresAt: '2025-11-28T22:00:00.000Z',
};

const token: ApiToken = { id: '7', name: 'nightly', prefix: 'tct_a1b2c3', createdAt: '2025-11-28T11:00:00.000Z', lastUsedAt: null };

const routes = [
  { path: '/sign-in', element: <SignInPage /> },
  {
    path: '/account',
    element: (
      <RequireSession>
        <AccountPage />
      </RequireSession>
    ),
  },
];

afterEach(() => {
  cleanup();
  forgetSession();
  vi.unstubAllGlobals();
});

describe('AccountPage', () => {
  it('shows who is signed in, and an empty token list', async () => {
    routeFetch({ 'GET /api/v1/auth/session': () => json(session), 'GET /api/v1/auth/tokens': () => json({ items: [] }) });
    renderRoutes(routes, '/account');
    expect((await screen.findByTestId('account-username')).textContent).toBe('bob');
    expect(screen.getByTestId('account-role').textContent).toBe('user');
    expect(await screen.findByRole('heading', { name: 'No API tokens yet' })).toBeTruthy();
  });

  it('creates a token, shows it once until dismissed, and lists it', async () => {
    let items: ApiToken[] = [];
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => json(session),
      'GET /api/v1/auth/tokens': () => json({ items }),
      'POST /api/v1/auth/tokens': () => {
        items = [token];
        return json({ ...token, token: 'tct_a1b2c3-the-whole-secret' }, 201);
      },
    });
    renderRoutes(routes, '/account');
    const name = await screen.findByLabelText('Token name');
    fireEvent.click(screen.getByRole('button', { name: 'Create Token' }));
    expect(await screen.findByText('give the token a name')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    fireEvent.change(name, { target: { value: 'nightly' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create Token' }));
    const shown = await screen.findByRole('alert', { name: 'New API token' });
    expect(within(shown).getByTestId('new-api-token').textContent).toBe('tct_a1b2c3-the-whole-secret');
    expect(shown.textContent).toContain('shown only this once');
    expect(within(shown).getByRole('button', { name: 'Copy token' })).toBeTruthy();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'nightly' });
    expect(sentHeaders('POST', '/api/v1/auth/tokens')[0]!.get('x-csrf-token')).toBe('csrf-bob');

    const table = await screen.findByRole('table', { name: 'API tokens' });
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Name', 'Prefix', 'Created', 'Last used', 'Operation']);
    const row = within(table).getAllByRole('row')[1]!;
    expect(row.textContent).toContain('nightly');
    expect(row.textContent).toContain('tct_a1b2c3…');
    expect(row.textContent).toContain('Never');
    expect(table.textContent).not.toContain('the-whole-secret');

    fireEvent.click(within(shown).getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByText('tct_a1b2c3-the-whole-secret')).toBeNull();
  });

  it('revokes a token only after a confirmation', async () => {
    let items = [token];
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => json(session),
      'GET /api/v1/auth/tokens': () => json({ items }),
      'DELETE /api/v1/auth/tokens/7': () => {
        items = [];
        return new Response(null, { status: 204 });
      },
    });
    renderRoutes(routes, '/account');
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke nightly' }));
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([]);
    const dialog = await screen.findByRole('dialog', { name: 'Revoke nightly?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke token' }));
    expect(await screen.findByRole('heading', { name: 'No API tokens yet' })).toBeTruthy();
    expect(sentHeaders('DELETE', '/api/v1/auth/tokens/7')[0]!.get('x-csrf-token')).toBe('csrf-bob');
  });

  it('puts a wrong current password on its field; after a change stays signed in and says what ended', async () => {
    let wrong = true;
    let items = [token, { ...token, id: '8', name: 'weekly' }];
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => json(session),
      'GET /api/v1/auth/setup': () => json({ required: false }),
      'GET /api/v1/auth/tokens': () => json({ items }),
      'POST /api/v1/auth/password': () => {
        if (wrong) {
          return json(
            {
              error: 'invalid_input',
              message: 'invalid',
              fields: [{ path: 'currentPassword', message: 'this is not your current password' }],
            },
            400,
          );
        }
        items = [];
        return json({ sessionsEnded: 2, tokensRevoked: 2 });
      },
    });
    const { router } = renderRoutes(routes, '/account');
    const form = await screen.findByRole('form', { name: 'Change password' });
    fireEvent.change(within(form).getByLabelText('Current password'), { target: { value: 'guess' } });
    fireEvent.change(within(form).getByLabelText('New password'), { target: { value: 'short' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Change Password' }));
    expect(await within(form).findByText('a password has at least 10 characters')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);

    fireEvent.change(within(form).getByLabelText('New password'), { target: { value: 'a much longer password' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Change Password' }));
    expect(await within(form).findByText('This is not your current password')).toBeTruthy();

    wrong = false;
    fireEvent.change(within(form).getByLabelText('Current password'), { target: { value: 'the old one' } });
    fireEvent.click(await within(form).findByLabelText('Also revoke my API tokens (2)'));
    fireEvent.click(within(form).getByRole('button', { name: 'Change Password' }));
    const done = await within(form).findByRole('status', { name: 'Password changed' });
    expect(done.textContent).toBe(
      'Your password was changed. 2 other sessions were signed out; 2 API tokens were revoked. You stay signed in here.',
    );
    expect(here(router)).toBe('/account');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({
      currentPassword: 'the old one',
      newPassword: 'a much longer password',
      revokeTokens: true,
    });
    // The revoked tokens leave the list, and the form is ready for another change.
    expect(await screen.findByRole('heading', { name: 'No API tokens yet' })).toBeTruthy();
    expect((within(form).getByLabelText('Current password') as HTMLInputElement).value).toBe('');
  });
});
