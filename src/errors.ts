/**
 * Every error Tessera throws is a {@link TesseraError} with a stable `code`, a `hint` saying how to fix the
 * problem, an ES2022 `cause` and `retryable`. Errors carry a `Symbol.for` brand, so {@link isTesseraError}
 * recognises errors from another copy of the package too (where `instanceof` would not).
 * @example
 * ```ts
 * try { await store.appendToStream('order-1', events, { expectedVersion: 3n }); }
 * catch (e) { if (isTesseraError(e, 'CONCURRENCY_CONFLICT')) console.log('reload and retry:', e.hint); else throw e; }
 * ```
 * @module
 */

const BRAND = Symbol.for('tessera.error');

/** Stable codes; new codes may be added, existing ones never change meaning. */
export type TesseraErrorCode = 'TESSERA_ERROR' | 'CONCURRENCY_CONFLICT' | 'INVALID_ARGUMENT' | 'STORE_CLOSED' | 'STORAGE_ERROR' | (string & {});

/** Options accepted by every Tessera error constructor. */
export interface TesseraErrorOptions {
  hint?: string;
  cause?: unknown;
  retryable?: boolean;
}

/**
 * Base class of every error Tessera throws.
 * @example
 * ```ts
 * throw new TesseraError('TESSERA_ERROR', 'something broke', { hint: 'check the log', retryable: false });
 * ```
 */
export class TesseraError extends Error {
  /** Stable machine-readable code, e.g. `CONCURRENCY_CONFLICT`. */
  readonly code: TesseraErrorCode;
  /** How to fix or work around the problem. */
  readonly hint: string;
  /** Whether the same call may succeed if retried unchanged. */
  readonly retryable: boolean;

  constructor(code: TesseraErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint ?? '';
    this.retryable = options.retryable ?? false;
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  /** A JSON-friendly view (used by the CLI's `--json` output and the HTTP API). */
  toJSON(): { name: string; code: string; message: string; hint: string; retryable: boolean } {
    return { name: this.name, code: this.code, message: this.message, hint: this.hint, retryable: this.retryable };
  }
}

/**
 * Tells whether `e` is a Tessera error (from any copy of the package), optionally with a given code.
 * @example
 * ```ts
 * if (isTesseraError(err, 'STORE_CLOSED')) reopen();
 * ```
 */
export function isTesseraError(e: unknown, code?: TesseraErrorCode): e is TesseraError {
  if (typeof e !== 'object' || e === null || (e as Record<symbol, unknown>)[BRAND] !== true) return false;
  return code === undefined || (e as TesseraError).code === code;
}

/**
 * The stream's version was not what the append expected: another writer got there first.
 * Reload the stream, decide again and retry (`handleCommand` does this for you).
 * @example
 * ```ts
 * catch (e) { if (e instanceof ConcurrencyError) console.log(e.streamId, e.expected, e.actual); }
 * ```
 */
export class ConcurrencyError extends TesseraError {
  constructor(readonly streamId: string, readonly expected: bigint | string, readonly actual: bigint, options: TesseraErrorOptions = {}) {
    super('CONCURRENCY_CONFLICT', `Stream "${streamId}" is at version ${actual}, but the append expected ${String(expected)}`, {
      hint: 'Another writer appended first. Read the stream again, re-decide, and retry with the new version.', retryable: true, ...options });
  }
}

/**
 * A caller passed a value Tessera cannot accept. Nothing was written.
 * @example
 * ```ts
 * catch (e) { if (e instanceof InvalidArgumentError) console.log(e.argument, e.reason, e.hint); }
 * ```
 */
export class InvalidArgumentError extends TesseraError {
  constructor(readonly argument: string, readonly reason: string, hint: string, options: Omit<TesseraErrorOptions, 'hint'> = {}) {
    super('INVALID_ARGUMENT', `Invalid ${argument}: ${reason}`, { ...options, hint, retryable: false });
  }
}

/**
 * The store (or another resource) was closed; calls after `close()` fail with this, they never hang.
 * @example
 * ```ts
 * await store.close();
 * await store.readAll().catch((e) => e instanceof StoreClosedError); // true
 * ```
 */
export class StoreClosedError extends TesseraError {
  constructor(what = 'event store') {
    super('STORE_CLOSED', `The ${what} is closed`, { hint: `Open a new ${what} instead of using one after close().` });
  }
}

/**
 * The database driver failed. The original driver error is in `cause`.
 * @example
 * ```ts
 * catch (e) { if (e instanceof StorageError && e.retryable) setTimeout(retry, 100); }
 * ```
 */
export class StorageError extends TesseraError {
  constructor(message: string, options: TesseraErrorOptions = {}) {
    super('STORAGE_ERROR', message, { hint: 'Check that the database is reachable, the file is writable and the disk is not full.', ...options });
  }
}

/**
 * The connection was lost while a transaction was committing: it may or may not have committed.
 * Retrying the same append with the same event ids is safe — stored ids are recognised and not stored twice.
 * @example
 * ```ts
 * catch (e) { if (e instanceof IndeterminateCommitError) await store.appendToStream(id, sameEventsWithIds); }
 * ```
 */
export class IndeterminateCommitError extends TesseraError {
  constructor(message: string, options: TesseraErrorOptions = {}) {
    super('INDETERMINATE_COMMIT', message, { hint: 'Retry the same append with the same event ids: if it had committed, the retry is a no-op.', retryable: true, ...options });
  }
}

/**
 * An event id is already stored with different content (or in another stream): ids must be unique.
 * @example
 * ```ts
 * catch (e) { if (e instanceof EventIdConflictError) console.log(e.eventId); }
 * ```
 */
export class EventIdConflictError extends TesseraError {
  constructor(readonly eventId: string, reason: string) {
    super('EVENT_ID_CONFLICT', `Event id "${eventId}" is already stored ${reason}`, {
      hint: 'Give every new event a fresh id; re-use an id only to retry the very same append.',
    });
  }
}

/**
 * The message bus (NATS JetStream) could not be reached or refused the operation in time.
 * @example
 * ```ts
 * catch (e) { if (e instanceof BusUnavailableError) console.log(e.url, e.hint); }
 * ```
 */
export class BusUnavailableError extends TesseraError {
  constructor(readonly url: string, message: string, options: TesseraErrorOptions = {}) {
    super('BUS_UNAVAILABLE', message, {
      hint: `Check that nats-server runs with JetStream at ${url} (e.g. \`nats-server -js -p 4222\`), or unset TESSERA_BUS to use the in-process bus.`,
      retryable: true,
      ...options,
    });
  }
}

/**
 * A consumer received an event before the previous event of the same stream was applied (another member
 * of its group still holds it). The delivery is retried later; nothing was applied.
 * @example
 * ```ts
 * catch (e) { if (e instanceof EventOutOfOrderError) console.log(e.streamId, e.expectedVersion, e.receivedVersion); }
 * ```
 */
export class EventOutOfOrderError extends TesseraError {
  constructor(readonly consumer: string, readonly streamId: string, readonly expectedVersion: bigint, readonly receivedVersion: bigint) {
    super('EVENT_OUT_OF_ORDER', `Consumer "${consumer}" got version ${receivedVersion} of stream "${streamId}" before version ${expectedVersion}`, {
      hint: 'Transient: the earlier event is still in flight and the delivery will be retried. If it persists, the consumer does not receive every event of the stream (filter by category, not by type).',
      retryable: true });
  }
}

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

/**
 * A lease holder lost its lease (another process took over and the fencing token moved on): the write it
 * attempted was refused and nothing of it was stored.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'LEASE_FENCED')) stopWorking(); }
 * ```
 */
export class FencingError extends TesseraError {
  constructor(readonly lease: string, readonly fence: bigint) {
    super('LEASE_FENCED', `Lease "${lease}" is no longer held with fencing token ${fence}: the write was refused`, {
      hint: 'Another process took the lease over (this one was paused or too slow to renew). Stop, then acquire the lease again.',
    });
  }
}
