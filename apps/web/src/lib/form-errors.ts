import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { ApiRequestError } from '../api/client';

/**
 * Puts a refused request's errors where the user looks: each field error the server named onto
 * its field, everything else (a 401, a 409, a network failure) into the form's root error.
 */
export function applyApiError<T extends FieldValues>(err: unknown, setError: UseFormSetError<T>, fields: readonly Path<T>[]): void {
  if (!(err instanceof ApiRequestError)) {
    setError('root', { message: err instanceof Error ? err.message : String(err) });
    return;
  }
  const rest: string[] = [];
  let mapped = 0;
  for (const f of err.fields) {
    const field = fields.find((name) => name === f.path);
    if (field) {
      setError(field, { message: f.message });
      mapped += 1;
    } else {
      rest.push(f.path ? `${f.path}: ${f.message}` : f.message);
    }
  }
  if (mapped === 0) setError('root', { message: err.message });
  else if (rest.length) setError('root', { message: rest.join('; ') });
}
