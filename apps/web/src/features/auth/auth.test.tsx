import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { useMutation, useQuery } from '@tanstack/react-query';
import type { Session } from '@tc/contracts';
import { api, forgetSession } from '../../api/client';
import { AppLayout } from '../../app/AppLayout';
import { here, json, renderRoutes, routeFetch, sentHeaders } from '../../test-utils';
import { authKeys } from './api';
import { RequireAdmin, RequireSession } from './session';
import { SetupPage } from './SetupPage';
import { SignInPage } from './SignInPage';

// The sign-in flow over a fake API at the fetch boundary: client, gate, pages and router are real.

const alice: Session = {
  user: { username: 'alice', role: 'user', createdAt: '2025-11-28T10:00:00.000Z' },
  csrfToken: 'csrf-alice',
  expiresAt: '2025-11-28T22:00:00.000Z',
};
const root: Session = { ...alice, user: { ...alice.user, username: 'root', role: 'admin' }, csrfToken: 'csrf-root' };

const unauthorized = () => json({ error: 'unauthorized', message: 'sign in first' }, 401);

/** A page that reads and changes something, as every console page does. */
function JobsProbe() {
  const jobs = useQuery({ queryKey: ['probe'], queryFn: () => api.get<{ total: number }>('/training-jobs') });
  const create = useMutation({ mutationFn: () => api.post('/training-jobs', { name: 'x' }) });
  return (
    <div>
      <p>{jobs.data ? `${jobs.data.total} jobs` : 'no jobs yet'}</p>
      <button type="button" onClick={() => create.mutate()}>
        Create
      </button>
    </div>
  );
}

const routes = [
  { path: '/sign-in', element: <SignInPage /> },
  { path: '/setup', element: <SetupPage /> },
  {
    element: (
      <RequireSession>
        <AppLayout />
      </RequireSession>
    ),
    children: [
      { path: '/jobs', element: <JobsProbe /> },
      { path: '/jobs/new', element: <JobsProbe /> },
      {
        path: '/admin/users',
        element: (
          <RequireAdmin>
            <p>the users</p>
          </RequireAdmin>
        ),
      },
    ],
  },
];

afterEach(() => {
  cleanup();
  forgetSession();
  vi.unstubAllGlobals();
});

describe('session gate and sign-in', () => {
  it('sends a stranger to sign in, then back where they were, with the CSRF token on changes', async () => {
    let signedIn = false;
    const calls = routeFetch({
      'GET /api/v1/auth/session': () => (signedIn ? json(alice) : unauthorized()),
      'GET /api/v1/auth/setup': () => json({ required: false }),
      'POST /api/v1/auth/sign-in': () => {
        signedIn = true;
        return json(alice);
      },
      'GET /api/v1/training-jobs': () => json({ items: [], total: 3 }),
      'POST /api/v1/training-jobs': () => json({}, 201),
    });
    const { router } = renderRoutes(routes, '/jobs/new');
    expect(screen.getByRole('status').textContent).toContain('Checking your session');
    await waitFor(() => expect(here(router)).toBe('/sign-in?next=%2Fjobs%2Fnew'));

    fireEvent.change(await screen.findByLabelText('Username'), { target: { value: 'alice' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign In' }));

    expect(await screen.findByText('3 jobs')).toBeTruthy();
    expect(here(router)).toBe('/jobs/new');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ username: 'alice', password: 'correct horse' });
    expect(screen.getByTestId('signed-in-user').textContent).toBe('alice');
    const nav = screen.getByRole('navigation', { name: 'Sections' });
    expect(within(nav).getByRole('link', { name: 'Account' })).toBeTruthy();
    expect(within(nav).queryByRole('link', { name: 'Users' })).toBeNull();
    expect(within(nav).queryByRole('link', { name: 'Audit log' })).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(sentHeaders('POST', '/api/v1/training-jobs')).toHaveLength(1));
    expect(sentHeaders('POST', '/api/v1/training-jobs')[0]!.get('x-csrf-token')).toBe('csrf-alice');
  });

  it("shows the server's message when the password is wrong or there were too many attempts", async () => {
    let answer = json({ error: 'unauthorized', message: 'wrong username or password' }, 401);
    routeFetch({
      'GET /api/v1/auth/setup': () => json({ required: false }),
      'POST /api/v1/auth/sign-in': () => answer,
    });
    const { router } = renderRoutes(routes, '/sign-in');
    fireEvent.change(await screen.findByLabelText('Username'), { target: { value: 'alice' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign In' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong username or password');
    expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe('');
    expect(here(router)).toBe('/sign-in');

    answer = json({ error: 'rate_limited', message: 'too many sign-in attempts; try again in 1 minute' }, 429);
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope again' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign In' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Too many sign-in attempts; try again in 1 minute'));
  });

  it('checks the fields before sending anything', async () => {
    const calls = routeFetch({ 'GET /api/v1/auth/setup': () => json({ required: false }) });
    renderRoutes(routes, '/sign-in');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign In' }));
    expect(await screen.findByText('enter your username')).toBeTruthy();
    expect(screen.getByText('enter your password')).toBeTruthy();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
  });

  it('sends the first visitor of a console without accounts to setup, where the code is checked', async () => {
    let answer = json(
      { error: 'invalid_input', message: 'invalid', fields: [{ path: 'setupCode', message: 'this is not the setup code' }] },
      400,
    );
    const calls = routeFetch({
      'GET /api/v1/auth/session': unauthorized,
      'GET /api/v1/auth/setup': () => json({ required: true }),
      'POST /api/v1/auth/setup': () => answer,
      'GET /api/v1/training-jobs': () => json({ items: [], total: 0 }),
    });
    const { router } = renderRoutes(routes, '/jobs');
    await waitFor(() => expect(here(router)).toBe('/setup'));
    fireEvent.change(await screen.findByLabelText('Setup code'), { target: { value: 'wrong-code' } });
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'root' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'a long enough password' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create Admin' }));
    expect(await screen.findByText('This is not the setup code')).toBeTruthy();
    expect(screen.getByLabelText('Setup code').getAttribute('aria-invalid')).toBe('true');

    answer = json(root);
    fireEvent.change(screen.getByLabelText('Setup code'), { target: { value: 'right-code' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create Admin' }));
    expect(await screen.findByText('0 jobs')).toBeTruthy();
    expect(here(router)).toBe('/jobs');
    expect(calls.filter((c) => c.method === 'POST').at(-1)?.body).toEqual({
      setupCode: 'right-code',
      username: 'root',
      password: 'a long enough password',
    });
    // The admin sees the admin sections.
    const nav = screen.getByRole('navigation', { name: 'Sections' });
    expect(within(nav).getByRole('link', { name: 'Users' })).toBeTruthy();
    expect(within(nav).getByRole('link', { name: 'Audit log' })).toBeTruthy();
  });

  it('a 401 in the middle of work goes to sign-in, keeps the place, and drops the cache', async () => {
    let expired = false;
    routeFetch({
      'GET /api/v1/auth/session': () => json(alice),
      'GET /api/v1/auth/setup': () => json({ required: false }),
      'GET /api/v1/training-jobs': () => json({ items: [], total: 1 }),
      'POST /api/v1/training-jobs': () => (expired ? unauthorized() : json({}, 201)),
    });
    const { router, client } = renderRoutes(routes, '/jobs');
    expect(await screen.findByText('1 jobs')).toBeTruthy();
    expired = true;
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(here(router)).toBe('/sign-in?next=%2Fjobs'));
    expect((await screen.findByRole('status')).textContent).toContain('Your session has ended');
    expect(client.getQueryData(authKeys.session())).toBeUndefined();
    expect(client.getQueryData(['probe'])).toBeUndefined();
  });

  it('Sign out ends the session on the server and returns to sign-in', async () => {
    routeFetch({
      'GET /api/v1/auth/session': () => json(alice),
      'GET /api/v1/auth/setup': () => json({ required: false }),
      'GET /api/v1/training-jobs': () => json({ items: [], total: 1 }),
      'POST /api/v1/auth/sign-out': () => new Response(null, { status: 204 }),
    });
    const { router, client } = renderRoutes(routes, '/jobs');
    fireEvent.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(here(router)).toBe('/sign-in'));
    expect(sentHeaders('POST', '/api/v1/auth/sign-out')[0]!.get('x-csrf-token')).toBe('csrf-alice');
    expect(client.getQueryData(authKeys.session())).toBeUndefined();
    expect(await screen.findByRole('button', { name: 'Sign In' })).toBeTruthy();
  });

  it('admin pages tell a user they are for admins', async () => {
    routeFetch({ 'GET /api/v1/auth/session': () => json(alice) });
    renderRoutes(routes, '/admin/users');
    expect((await screen.findByRole('alert')).textContent).toContain('Admins only');
    expect(screen.queryByText('the users')).toBeNull();
  });

  it('shows an error with retry when the console cannot be reached', async () => {
    let down = true;
    routeFetch({
      'GET /api/v1/auth/session': () => (down ? json({ error: 'internal', message: 'database is locked' }, 500) : json(root)),
    });
    renderRoutes(routes, '/admin/users');
    expect((await screen.findByRole('alert')).textContent).toContain('database is locked');
    down = false;
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('the users')).toBeTruthy();
  });
});
