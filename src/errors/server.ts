/** HTTP service errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError } from './base.js';

/**
 * An admin action (rebuild, retry, skip, cancel) came without the bearer token the service was started with,
 * or with a wrong one. Nothing was changed.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'ADMIN_TOKEN_REQUIRED')) console.log(e.hint); }
 * ```
 */
export class AdminTokenRequiredError extends TesseraError {
  constructor(readonly configured: boolean) {
    super('ADMIN_TOKEN_REQUIRED', configured ? 'This admin action needs a valid bearer token' : 'Admin actions are disabled: the service has no admin token', {
      hint: configured
        ? 'Send the header "Authorization: Bearer <TESSERA_ADMIN_TOKEN>" with the token the service was started with.'
        : 'Start the service with TESSERA_ADMIN_TOKEN=<secret> to enable rebuild, retry, skip and cancel over HTTP.',
    });
  }
}

/**
 * The service was asked to listen on a non-loopback address without an admin token: anyone on the network could
 * then reach it. It refuses to start.
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnsafeBindError) console.log(e.host); }
 * ```
 */
export class UnsafeBindError extends TesseraError {
  constructor(readonly host: string) {
    super('UNSAFE_BIND', `Refusing to listen on ${host} without an admin token`, {
      hint: 'Bind 127.0.0.1 (the default), or set TESSERA_ADMIN_TOKEN to a long random secret before exposing the service.',
    });
  }
}

/**
 * The HTTP resource asked for does not exist (an order, stream or route).
 * @example
 * ```ts
 * throw new NotFoundError('order', 'o-42');
 * ```
 */
export class NotFoundError extends TesseraError {
  constructor(readonly kind: string, readonly id: string) {
    super('NOT_FOUND', `No ${kind} "${id}"`, { hint: `Check the ${kind} id; list what exists first.` });
  }
}
