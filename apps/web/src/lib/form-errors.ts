import type { FieldValues, Path, UseFormSetError } from 'react-hook-form';
import { ApiRequestError } from '../api/client';

/** A message as a sentence: the API's field messages may start in lower case ("must be …"). */
export function capitalize(message: string): string {
  return message.charAt(0).toUpperCase() + message.slice(1);
}

/**
 * Puts a refused request's errors where the user looks: each field error the server named onto
 * its field, everything else (a 401, a 409, a network failure) into the form's root error. The
 * request's own paths (`resources.nodes`) are never shown: the fields' messages are.
 */
export function applyApiError<T extends FieldValues>(err: unknown, setError: UseFormSetError<T>, fields: readonly Path<T>[]): void {
  if (!(err instanceof ApiRequestError)) {
    setError('root', { message: capitalize(err instanceof Error ? err.message : String(err)) });
    return;
  }
  const rest: string[] = [];
  for (const f of err.fields) {
    const field = fields.find((name) => name === f.path);
    if (field) setError(field, { message: capitalize(f.message) });
    else rest.push(capitalize(f.message));
  }
  if (rest.length > 0) setError('root', { message: rest.join('; ') });
  else if (err.fields.length === 0) setError('root', { message: capitalize(err.message) });
}
