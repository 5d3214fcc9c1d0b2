import { IndeterminateCommitError, isTesseraError, StorageError } from '../errors.js';

/**
 * Maps `pg` failures onto Tessera errors: every driver error becomes a {@link StorageError} with the
 * original in `cause`, `retryable` set for failures a retry can get past (lost or refused connections,
 * server shutdown, serialization failures, deadlocks) and a hint that names the likely fix.
 *
 * @example
 * ```ts
 * try { await client.query(sql); } catch (e) { throw toPgStorageError(e, 'Reading events failed'); }
 * ```
 */
export function toPgStorageError(e: unknown, message: string): Error {
  if (isTesseraError(e)) return e;
  const { code, detail } = describePgError(e);
  const retryable = isRetryablePgError(e);
  return new StorageError(`${message}: ${detail}${code ? ` (${code})` : ''}`, { cause: e, retryable, hint: hintFor(e, code) });
}

/** The error for a COMMIT whose outcome is unknown because the connection was lost while it ran. */
export function indeterminateCommit(e: unknown): IndeterminateCommitError {
  const { code, detail } = describePgError(e);
  return new IndeterminateCommitError(
    `The connection was lost during COMMIT; the transaction may or may not have committed: ${detail}${code ? ` (${code})` : ''}`,
    { cause: e },
  );
}

// SQLSTATEs after which the same call may succeed: shutdown/terminated backends, serialization failures,
// deadlocks, too many connections, and the whole "connection exception" class 08.
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '53300', '55P03', '25P04']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * True when the error means the connection itself failed or was lost (as opposed to the server rejecting
 * a statement): after such an error during COMMIT the outcome is unknown.
 */
export function isPgConnectionError(e: unknown): boolean {
  const { code, detail } = describePgError(e);
  if (NETWORK_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  // pg reports a socket that closed or a connect that timed out with plain Errors.
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|socket/i.test(detail);
}

/** True for failures a plain retry may get past. */
export function isRetryablePgError(e: unknown): boolean {
  const { code } = describePgError(e);
  return isPgConnectionError(e) || RETRYABLE_SQLSTATES.has(code);
}

/** The SQLSTATE or Node error code (`''` when none) and the message of a driver error. */
export function describePgError(e: unknown): { code: string; detail: string; constraint: string } {
  // A Tessera error wrapping a driver error is described by the driver error it wraps.
  if (isTesseraError(e) && e.cause !== undefined) return describePgError(e.cause);
  const rec = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {};
  const code = typeof rec.code === 'string' ? rec.code : '';
  const constraint = typeof rec.constraint === 'string' ? rec.constraint : '';
  let detail = e instanceof Error ? e.message : String(e);
  // AggregateError (several addresses refused) has an empty message; its parts carry the reason.
  if (detail === '' && Array.isArray(rec.errors)) detail = rec.errors.map((x) => (x instanceof Error ? x.message : String(x))).join('; ');
  return { code, detail, constraint };
}

function hintFor(e: unknown, code: string): string {
  const { detail } = describePgError(e);
  if (code === 'ECONNREFUSED') return 'Nothing accepts connections at that host and port: start PostgreSQL, or fix the port in the connection string.';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'The host name does not resolve: fix the host in the connection string.';
  if (code === 'ETIMEDOUT' || /timeout/i.test(detail)) {
    return 'The server did not answer in time: check that the host is reachable and PostgreSQL is running, or raise connectTimeoutMs.';
  }
  if (code === '3D000') return 'The database named in the connection string does not exist: create it (createdb) or fix the name.';
  if (code === '28P01' || code === '28000') return 'The server refused the user or password: fix the credentials in the connection string or pg_hba.conf.';
  if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08') || isPgConnectionError(e)) {
    return 'The connection to PostgreSQL was lost or refused (server restart, terminated backend, network): retry; the pool reconnects.';
  }
  if (code === '40001' || code === '40P01') return 'Concurrent transactions collided: retry the operation.';
  if (code === '53300') return 'The server has no free connection slots: lower the pool size or raise max_connections.';
  if (code === '42501') return 'The database user lacks a privilege: grant it, or use a user that owns the schema.';
  if (code.startsWith('42')) return 'PostgreSQL rejected the SQL (syntax, missing table or column): check the statement and the migrations.';
  return 'Check that PostgreSQL is reachable and healthy; the original driver error is in `cause`.';
}
