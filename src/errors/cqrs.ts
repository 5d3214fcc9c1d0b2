/** CQRS errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError } from './base.js';

/**
 * A command or query bus got a message type no handler is registered for.
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnknownCommandError) console.log(e.kind, e.messageType); }
 * ```
 */
export class UnknownCommandError extends TesseraError {
  constructor(readonly kind: 'command' | 'query', readonly messageType: string) {
    super(kind === 'command' ? 'UNKNOWN_COMMAND' : 'UNKNOWN_QUERY', `No handler is registered for ${kind} "${messageType}"`, {
      hint: `Register one with bus.register('${messageType}', { handle }) before sending it, and check the spelling.`,
    });
  }
}

/**
 * A command's or query's payload did not match the schema it was registered with. Nothing ran.
 * @example
 * ```ts
 * catch (e) { if (e instanceof CommandValidationError) console.log(e.issues); }
 * ```
 */
export class CommandValidationError extends TesseraError {
  constructor(readonly kind: 'command' | 'query', readonly messageType: string, readonly issues: ReadonlyArray<{ path: string; message: string }>) {
    const detail = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    super(kind === 'command' ? 'COMMAND_VALIDATION_FAILED' : 'QUERY_VALIDATION_FAILED', `Invalid ${kind} "${messageType}": ${detail}`, {
      hint: `Send a payload that matches the schema registered for "${messageType}".`,
    });
  }
}

/**
 * No projection with this name is known (not registered in this database, or not passed to this call).
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnknownProjectionError) console.log(e.projection); }
 * ```
 */
export class UnknownProjectionError extends TesseraError {
  constructor(readonly projection: string) {
    super('UNKNOWN_PROJECTION', `Unknown projection "${projection}"`, { hint: 'Check the name; a projection is registered when a projector (or the store, for inline ones) first runs it.' });
  }
}

/**
 * A read-your-writes wait ran out of time before the projection passed the position.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'CONSISTENCY_TIMEOUT')) return staleResponse(); }
 * ```
 */
export class ConsistencyTimeoutError extends TesseraError {
  constructor(readonly projection: string, readonly position: bigint, readonly reached: bigint, timeoutMs: number) {
    super('CONSISTENCY_TIMEOUT', `Projection "${projection}" reached position ${reached}, not ${position}, within ${timeoutMs} ms`, {
      hint: 'Check that a projector is running for it (tessera projections list), or raise timeoutMs.',
      retryable: true,
    });
  }
}

/**
 * A projection is parked on an event it could not apply; it moves on only after `retry` or `skip`.
 * @example
 * ```ts
 * catch (e) { if (e instanceof ProjectionFailedError) console.log(e.eventId, e.reason); }
 * ```
 */
export class ProjectionFailedError extends TesseraError {
  constructor(readonly projection: string, readonly eventId: string, readonly reason: string) {
    super('PROJECTION_FAILED', `Projection "${projection}" is parked on event ${eventId}: ${reason}`, {
      hint: `Fix the cause, then run "tessera projections retry ${projection}", or "skip" to pass over the event.`,
    });
  }
}
