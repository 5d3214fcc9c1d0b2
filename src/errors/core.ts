/** Event store and storage errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError, type TesseraErrorOptions } from './base.js';

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
