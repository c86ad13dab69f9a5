import { describe, expect, it, vi } from 'vitest';
import { ApiRequestError } from '../api/client';
import { applyApiError } from './form-errors';

describe('applyApiError', () => {
  it('puts field errors on their fields and the rest in the root, as sentences without request paths', () => {
    const setError = vi.fn();
    const err = new ApiRequestError(400, 'username: must be unique; resources.nodes: more than the pool holds', 'invalid_input', [
      { path: 'username', message: 'must be unique' },
      { path: 'resources.nodes', message: 'more than the pool holds' },
    ]);
    applyApiError<{ username: string }>(err, setError, ['username']);
    expect(setError).toHaveBeenCalledWith('username', { message: 'Must be unique' });
    expect(setError).toHaveBeenCalledWith('root', { message: 'More than the pool holds' });
    expect(JSON.stringify(setError.mock.calls)).not.toContain('resources.nodes');
  });

  it('uses the message alone when the server named no field', () => {
    const setError = vi.fn();
    applyApiError(new ApiRequestError(409, 'user bob exists'), setError, []);
    expect(setError).toHaveBeenCalledWith('root', { message: 'User bob exists' });
  });
});
