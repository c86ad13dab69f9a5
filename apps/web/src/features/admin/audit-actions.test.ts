import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '@tc/contracts';
import { describeAction } from './audit-actions';

const entry = (action: string, target: string, status = 200): AuditEntry => ({
  id: 1,
  at: '2026-12-01T10:00:00.000Z',
  username: 'admin',
  action,
  target,
  status,
  ip: '127.0.0.1',
});

describe('describeAction', () => {
  it('reads the job and version out of the path', () => {
    expect(
      describeAction(entry('POST /api/v1/training-jobs/:name/versions/:version/stop', '/api/v1/training-jobs/ux1/versions/V001/stop')),
    ).toBe('Stopped job ux1 V001');
  });
  it('names what was created from the target', () => {
    expect(describeAction(entry('POST /api/v1/training-jobs', '/api/v1/training-jobs (name ux1)'))).toBe('Created job ux1');
    expect(describeAction(entry('POST /api/v1/users', '/api/v1/users (user bob)'))).toBe('Created user bob');
  });
  it('tells a failed sign-in from one that worked', () => {
    expect(describeAction(entry('POST /api/v1/auth/sign-in', '/api/v1/auth/sign-in (user eve)', 401))).toBe('Failed to sign in eve');
    expect(describeAction(entry('POST /api/v1/auth/sign-in', '/api/v1/auth/sign-in (user eve)'))).toBe('Signed in');
  });
  it('decodes names and leaves unknown routes alone', () => {
    expect(describeAction(entry('DELETE /api/v1/datasets/:name', '/api/v1/datasets/my%20set'))).toBe('Deleted dataset my set');
    expect(describeAction(entry('POST /api/v1/something-new', '/api/v1/something-new'))).toBeNull();
  });
});
