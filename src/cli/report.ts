import { ConcurrencyError, EventIdConflictError, InvalidArgumentError, isTesseraError } from '../errors.js';
import { jsonLine } from './format.js';

/**
 * How the CLI reports a failure: `error:` and `hint:` lines (or one JSON object with `--json`) and an exit
 * code — 1 when the user can fix the call (bad input, a version conflict), 2 when storage failed or
 * something unexpected happened.
 *
 * @example
 * ```ts
 * process.stderr.write(formatError(err, false));
 * process.exitCode = exitCodeFor(err);
 * ```
 * @module
 */

/** Exit codes of the CLI (`process.exitCode = EXIT_USER_ERROR`). */
export const EXIT_OK = 0;
/** Bad input, a version conflict, an id conflict: the caller can fix the call. */
export const EXIT_USER_ERROR = 1;
/** The database failed, or something unexpected happened. */
export const EXIT_STORAGE_ERROR = 2;

const STORAGE_CODES = new Set(['STORAGE_ERROR', 'INDETERMINATE_COMMIT', 'STORE_CLOSED']);

/**
 * 1 for errors the caller can fix, 2 for storage and unexpected failures.
 *
 * @example
 * ```ts
 * exitCodeFor(new ConcurrencyError('cart-1', 1n, 2n)); // 1
 * ```
 */
export function exitCodeFor(e: unknown): number {
  if (isTesseraError(e)) return STORAGE_CODES.has(e.code) ? EXIT_STORAGE_ERROR : EXIT_USER_ERROR;
  return EXIT_STORAGE_ERROR;
}

/**
 * The error as text (`error: …` / `hint: …`) or as one JSON line, newline-terminated.
 *
 * @example
 * ```ts
 * process.stderr.write(formatError(err, false)); // 'error: …\nhint: …\n'
 * ```
 */
export function formatError(e: unknown, json: boolean): string {
  if (json) return `${jsonLine({ error: errorToJson(e) })}\n`;
  if (isTesseraError(e)) return `error: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`;
  const message = e instanceof Error ? e.message : String(e);
  const debug = process.env.TESSERA_DEBUG === '1' && e instanceof Error && e.stack ? `${e.stack}\n` : '';
  return `error: ${message}\nhint: This looks like a bug or an environment problem; run with TESSERA_DEBUG=1 for the stack trace.\n${debug}`;
}

function errorToJson(e: unknown): Record<string, unknown> {
  if (!isTesseraError(e)) {
    return { name: e instanceof Error ? e.name : 'Error', code: 'UNEXPECTED', message: e instanceof Error ? e.message : String(e) };
  }
  const out: Record<string, unknown> = { ...e.toJSON() };
  // The fields a script needs to react without parsing the message.
  if (e instanceof ConcurrencyError) Object.assign(out, { streamId: e.streamId, expected: e.expected, actual: e.actual });
  if (e instanceof InvalidArgumentError) Object.assign(out, { argument: e.argument, reason: e.reason });
  if (e instanceof EventIdConflictError) out.eventId = e.eventId;
  return out;
}

/**
 * A usage error reported by commander (unknown option, missing argument), in the same two shapes.
 *
 * @example
 * ```ts
 * formatUsageError("error: unknown option '--x'", false);
 * ```
 */
export function formatUsageError(message: string, json: boolean): string {
  const text = message.replace(/^error:\s*/, '').trimEnd();
  if (json) return `${jsonLine({ error: { name: 'UsageError', code: 'USAGE', message: text, hint: 'Run tessera --help.' } })}\n`;
  return `error: ${text}\nhint: Run tessera --help, or tessera <command> --help.\n`;
}
