/** Saga errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError, type TesseraErrorOptions } from './base.js';

/**
 * Thrown by a saga step to say "retrying cannot help": the step is not retried and the saga compensates.
 * Any error whose `retryable` is `false` has the same effect.
 * @example
 * ```ts
 * action: async ({ input }) => { if (!input.card) throw new NonRetryableError('no card on file'); }
 * ```
 */
export class NonRetryableError extends TesseraError {
  constructor(message: string, options: Omit<TesseraErrorOptions, 'retryable'> = {}) {
    super('NON_RETRYABLE', message, { hint: 'The operation failed for good; retrying it unchanged cannot succeed.', ...options, retryable: false });
  }
}

/**
 * No saga definition with this name (or this name and version) is registered in the engine.
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnknownSagaError) console.log(e.sagaName); }
 * ```
 */
export class UnknownSagaError extends TesseraError {
  constructor(readonly sagaName: string) {
    super('UNKNOWN_SAGA', `No saga named "${sagaName}" is registered in this saga engine`, {
      hint: 'Pass the definition from defineSaga() in openSagaEngine({ sagas: [...] }) and start it by its exact name.',
    });
  }
}

/**
 * No saga instance with this id exists in the store.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'SAGA_NOT_FOUND')) console.log('start it first'); }
 * ```
 */
export class SagaNotFoundError extends TesseraError {
  constructor(readonly sagaId: string) {
    super('SAGA_NOT_FOUND', `No saga with id "${sagaId}" exists`, {
      hint: 'Check the saga id; a saga exists once engine.start() has returned for it.',
    });
  }
}

/**
 * The saga is in a status that does not allow the requested operation (e.g. a signal to a finished saga,
 * retryCompensation on a saga that is not `compensation_failed`).
 * @example
 * ```ts
 * catch (e) { if (e instanceof SagaStateError) console.log(e.sagaId, e.status); }
 * ```
 */
export class SagaStateError extends TesseraError {
  constructor(readonly sagaId: string, readonly status: string, operation: string) {
    super('SAGA_INVALID_STATE', `Saga "${sagaId}" is ${status}: cannot ${operation}`, { hint: 'Read the saga with engine.get(id) and only act on it in a status that allows the operation.' });
  }
}

/**
 * The store holds unfinished sagas of a definition version that this engine was not given: it refuses to start
 * rather than run them with different steps.
 * @example
 * ```ts
 * catch (e) { if (e instanceof SagaVersionMissingError) console.log(e.sagaName, e.versions); }
 * ```
 */
export class SagaVersionMissingError extends TesseraError {
  constructor(readonly sagaName: string, readonly versions: number[]) {
    super('SAGA_VERSION_MISSING', `Unfinished "${sagaName}" sagas use version(s) ${versions.join(', ')}, which this engine does not have`, {
      hint: 'Keep the old definition versions registered (next to the new one) until their sagas have finished.',
    });
  }
}

/**
 * A saga's compensation kept failing: the saga ended `compensation_failed` (it stays visible and can be re-driven
 * with `engine.retryCompensation(id)` after the cause is fixed).
 * @example
 * ```ts
 * const s = await engine.waitForTerminal(id);
 * if (s.status === 'compensation_failed') await engine.retryCompensation(id);
 * ```
 */
export class SagaCompensationFailedError extends TesseraError {
  constructor(readonly sagaId: string, readonly step: string, reason: string) {
    super('SAGA_COMPENSATION_FAILED', `Saga "${sagaId}": compensation of step "${step}" failed: ${reason}`, {
      hint: 'Fix the cause of the failing compensation, then call engine.retryCompensation(sagaId).',
    });
  }
}

/**
 * A saga step (or a wait for a signal, or waitForTerminal) did not finish in its allotted time.
 * A step timeout is retryable; a signal timeout is not (the saga compensates).
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'SAGA_TIMEOUT')) console.log(e.message); }
 * ```
 */
export class SagaTimeoutError extends TesseraError {
  constructor(what: string, timeoutMs: number, retryable: boolean) {
    super('SAGA_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, {
      hint: 'Raise the timeout, or make the work faster; a step timeout is retried by the step\'s retry policy.',
      retryable,
    });
  }
}

/**
 * The saga ran past its `deadlineMs`: the in-flight step was aborted and the saga cancelled (its started steps
 * compensated); the saga's `error` carries this message.
 * @example
 * ```ts
 * const s = await engine.waitForTerminal(id); // s.error mentions the deadline
 * ```
 */
export class SagaDeadlineExceededError extends TesseraError {
  constructor(readonly sagaId: string, deadlineMs: number) {
    super('SAGA_DEADLINE_EXCEEDED', `Saga "${sagaId}" passed its deadline of ${deadlineMs} ms`, { hint: 'Raise the saga definition\'s deadlineMs, or make its steps faster.' });
  }
}
