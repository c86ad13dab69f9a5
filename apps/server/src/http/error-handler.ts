import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ApiError } from '@tc/contracts';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, PaymentRequiredError, UnauthorizedError } from '../errors.js';
import { StoreUnavailableError } from '../storage/object-store.js';

/**
 * Every error becomes one JSON shape with the request id, in one place. Bad input is a 4xx that
 * names each field and rule; anything unexpected is a 500 whose details go to the log only.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const requestId = req.id;
    const send = (status: number, body: Omit<ApiError, 'requestId'>) => reply.status(status).send({ ...body, requestId });

    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const fields = err.validation.map((v) => ({
        path: v.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.'),
        message: v.message ?? 'is invalid',
      }));
      return send(400, { error: 'invalid_input', message: `invalid ${where}: ${describe(fields)}`, fields });
    }
    if (err instanceof InvalidInputError) return send(400, { error: err.code, message: err.message, fields: err.fields });
    if (err instanceof NotFoundError) return send(404, { error: err.code, message: err.message });
    if (err instanceof ConflictError) return send(409, { error: err.code, message: err.message });
    if (err instanceof PaymentRequiredError) return send(402, { error: err.code, message: err.message });
    if (err instanceof UnauthorizedError) return send(401, { error: err.code, message: err.message });
    if (err instanceof ForbiddenError) return send(403, { error: err.code, message: err.message });
    // Not the request's fault and maybe brief: say which store and why, so the operator can act.
    if (err instanceof StoreUnavailableError) {
      req.log.warn({ err }, 'object store unavailable');
      return send(503, { error: 'store_unavailable', message: err.message });
    }
    // Fastify's own client errors (malformed JSON, wrong content type, body too large).
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(err.statusCode, { error: err.code ?? 'bad_request', message: err.message, fields: [{ path: '', message: err.message }] });
    }
    req.log.error({ err }, 'request failed');
    return send(500, { error: 'internal', message: 'internal error; see the server log for this request id' });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}`, requestId: req.id });
  });
}

function describe(fields: { path: string; message: string }[]): string {
  return fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ');
}
