import type { FieldError } from '@tc/contracts';

/** Typed domain errors; `http/error-handler.ts` maps each to its status once. */
export class NotFoundError extends Error {
  readonly code = 'not_found';
}

export class InvalidInputError extends Error {
  readonly code = 'invalid_input';
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; '));
  }
}

export class ConflictError extends Error {
  readonly code = 'conflict';
}

/** The account is in arrears (budget used up): nothing new may be started until it is raised. */
export class PaymentRequiredError extends Error {
  readonly code = 'in_arrears';
}

/** No valid session or token: sign in first. */
export class UnauthorizedError extends Error {
  readonly code = 'unauthorized';
}

/** Signed in, but this is not allowed (an admin-only action, a missing CSRF token). */
export class ForbiddenError extends Error {
  readonly code: string;
  constructor(message: string, code = 'forbidden') {
    super(message);
    this.code = code;
  }
}
