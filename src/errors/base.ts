/**
 * Every error Tessera throws is a {@link TesseraError} with a stable `code`, a `hint` saying how to fix the
 * problem, an ES2022 `cause` and `retryable`. Errors carry a `Symbol.for` brand, so {@link isTesseraError}
 * recognises errors from another copy of the package too (where `instanceof` would not).
 * @example
 * ```ts
 * try { await store.appendToStream('order-1', events, { expectedVersion: 3n }); }
 * catch (e) { if (isTesseraError(e, 'CONCURRENCY_CONFLICT')) console.log('reload and retry:', e.hint); else throw e; }
 * ```
 * The classes live in `src/errors/<area>.ts`, one file per pattern, so each stays small; `src/errors.ts`
 * re-exports every one of them and is the only module users import errors from.
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
