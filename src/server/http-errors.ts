import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isTesseraError } from '../errors.js';

/**
 * HTTP status of each Tessera error code the API can meet; anything else is a 500 (503 when retryable).
 * @example
 * ```ts
 * STATUS_BY_CODE.CONCURRENCY_CONFLICT; // 409
 * ```
 */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  ADMIN_TOKEN_REQUIRED: 401,
  NOT_FOUND: 404,
  SAGA_NOT_FOUND: 404,
  UNKNOWN_PROJECTION: 404,
  UNKNOWN_SAGA: 404,
  CONCURRENCY_CONFLICT: 409,
  EVENT_ID_CONFLICT: 409,
  SAGA_INVALID_STATE: 409,
};

/**
 * The JSON body of every error response.
 * @example
 * ```ts
 * const err = (await res.json()) as ErrorBody; console.log(err.code, err.hint);
 * ```
 */
export interface ErrorBody {
  code: string;
  message: string;
  hint: string;
  correlationId: string;
  issues?: Array<{ path: string; message: string }>;
}

/**
 * Fastify error handler: every error becomes `{ code, message, hint, correlationId }` with a fitting status —
 * 400 for a request that fails its schema, 409 for conflicts, 413 over the body limit, the error's own
 * mapping for Tessera errors, and a logged 500 for the rest.
 *
 * @example
 * ```ts
 * app.setErrorHandler(errorHandler({ ORDER_STATE: 409 }, 65_536));
 * ```
 */
export function errorHandler(extra: Readonly<Record<string, number>>, bodyLimit: number) {
  const statuses = { ...STATUS_BY_CODE, ...extra };
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const send = (status: number, body: Omit<ErrorBody, 'correlationId'>) => reply.code(status).send({ ...body, correlationId: req.id });
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ path: `${err.validationContext ?? 'body'}${v.instancePath.replaceAll('/', '.')}`, message: v.message ?? 'is invalid' }));
      return send(400, {
        code: 'INVALID_REQUEST', issues,
        message: `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        hint: 'Fix the fields listed in issues; GET /openapi.json describes every route and its schema.',
      });
    }
    if (isTesseraError(err)) {
      const status = statuses[err.code] ?? (err.retryable ? 503 : 500);
      if (status >= 500) req.log.error({ err }, 'request failed');
      return send(status, { code: err.code, message: err.message, hint: err.hint });
    }
    if (err.statusCode === 413) {
      return send(413, { code: 'BODY_TOO_LARGE', message: `The request body is over ${bodyLimit} bytes`, hint: `Send at most ${bodyLimit} bytes; split large batches into several requests.` });
    }
    if (err.statusCode === 415) {
      return send(415, { code: 'UNSUPPORTED_MEDIA_TYPE', message: err.message, hint: 'Send the body as JSON with "Content-Type: application/json".' });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // A 400 from the body parser (malformed JSON, a forbidden __proto__ or constructor key) is an invalid
      // request like a schema failure, so clients handle one code for both.
      const code = err.statusCode === 400 ? 'INVALID_REQUEST' : 'BAD_REQUEST';
      return send(err.statusCode, { code, message: err.message, hint: 'Send a well-formed JSON body matching the route schema (GET /openapi.json); keys named __proto__ or constructor are refused.' });
    }
    req.log.error({ err }, 'request failed');
    return send(500, { code: 'INTERNAL', message: 'The request failed inside the service', hint: `See the service log for correlation id ${req.id}.` });
  };
}
