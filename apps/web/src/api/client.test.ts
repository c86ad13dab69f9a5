import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '@tc/contracts';
import { api, ApiRequestError, currentCsrfToken, forgetSession, onUnauthorized, rememberSession } from './client';
import { uploadImage } from '../features/images/api';
import { json, routeFetch, sentHeaders } from '../test-utils';

const session: Session = {
  user: { username: 'alice', role: 'user', createdAt: '2025-11-28T10:00:00.000Z' },
  csrfToken: 'csrf-123',
  expiresAt: '2025-11-28T22:00:00.000Z',
};

afterEach(() => {
  forgetSession();
  vi.unstubAllGlobals();
});

describe('api client and the session', () => {
  it('sends the CSRF token of the session on every change, never on a read', async () => {
    routeFetch({
      'GET /api/v1/training-jobs': () => json({ items: [], total: 0 }),
      'POST /api/v1/training-jobs': () => json({}, 201),
      'DELETE /api/v1/training-jobs': () => new Response(null, { status: 204 }),
    });
    await api.post('/training-jobs', { name: 'x' });
    expect(sentHeaders('POST', '/api/v1/training-jobs')[0]!.has('x-csrf-token')).toBe(false);

    rememberSession(session);
    await api.get('/training-jobs');
    await api.post('/training-jobs', { name: 'x' });
    await api.delete('/training-jobs/x/versions/V001');
    expect(sentHeaders('GET', '/api/v1/training-jobs')[0]!.has('x-csrf-token')).toBe(false);
    expect(sentHeaders('POST', '/api/v1/training-jobs')[1]!.get('x-csrf-token')).toBe('csrf-123');
    expect(sentHeaders('DELETE', '/api/v1/training-jobs')[0]!.get('x-csrf-token')).toBe('csrf-123');
    expect(sentHeaders('POST', '/api/v1/training-jobs')[1]!.get('content-type')).toBe('application/json');
  });

  it('sends it with the streamed image upload too', async () => {
    rememberSession(session);
    routeFetch({ 'POST /api/v1/images/load': () => json({ loaded: ['demo/x:1'] }) });
    await uploadImage(new File(['tar'], 'x.tar'));
    const [headers] = sentHeaders('POST', '/api/v1/images/load');
    expect(headers!.get('x-csrf-token')).toBe('csrf-123');
    expect(headers!.get('content-type')).toBe('application/x-tar');
  });

  it('hands a 401 to the app and forgets the token, except from the sign-in endpoints', async () => {
    rememberSession(session);
    const refused = () => json({ error: 'unauthorized', message: 'sign in first' }, 401);
    routeFetch({ 'GET /api/v1/training-jobs': refused, 'POST /api/v1/auth/sign-in': refused, 'GET /api/v1/auth/session': refused });
    const handler = vi.fn();
    const off = onUnauthorized(handler);

    await expect(api.post('/auth/sign-in', { username: 'a', password: 'b' })).rejects.toMatchObject({ status: 401 });
    await expect(api.get('/auth/session')).rejects.toBeInstanceOf(ApiRequestError);
    expect(handler).not.toHaveBeenCalled();
    expect(currentCsrfToken()).toBe('csrf-123');

    await expect(api.get('/training-jobs', { query: { page: 1 } })).rejects.toMatchObject({ status: 401, message: 'sign in first' });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(currentCsrfToken()).toBeNull();

    off();
    await expect(api.get('/training-jobs')).rejects.toMatchObject({ status: 401 });
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
