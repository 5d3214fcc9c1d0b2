import { MalformedSessionTokenError } from '../errors.js';

/**
 * PostgreSQL WAL positions (LSNs, written `X/Y` in hex) as bigints, and the session token that carries one.
 * @module
 */

const LSN = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/**
 * Parses `'16/B374D848'` into a bigint (`0x16B374D848n`); null when the text is not an LSN.
 * @example
 * ```ts
 * parseLsn('0/3000148'); // 50331976n
 * ```
 */
export function parseLsn(text: string): bigint | null {
  const m = LSN.exec(text);
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : null;
}

/**
 * Formats a bigint LSN the way PostgreSQL prints it.
 * @example
 * ```ts
 * formatLsn(50331976n); // '0/3000148'
 * ```
 */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

const TOKEN_PREFIX = 'rsv1:';

/**
 * A read-your-writes session token: the WAL position the session's reads must have seen. It is a short
 * string (`rsv1:0/3000148`), safe in a cookie or an HTTP header.
 * @example
 * ```ts
 * encodeSessionToken(50331976n); // 'rsv1:0/3000148'
 * ```
 */
export function encodeSessionToken(lsn: bigint): string {
  return TOKEN_PREFIX + formatLsn(lsn);
}

/**
 * Parses a session token; throws {@link MalformedSessionTokenError} for anything else.
 * @example
 * ```ts
 * decodeSessionToken('rsv1:0/3000148'); // 50331976n
 * ```
 */
export function decodeSessionToken(token: unknown): bigint {
  const text = typeof token === 'string' ? token : String(token);
  const lsn = typeof token === 'string' && token.startsWith(TOKEN_PREFIX) ? parseLsn(token.slice(TOKEN_PREFIX.length)) : null;
  if (lsn === null) throw new MalformedSessionTokenError(text);
  return lsn;
}

/** The larger of two LSNs. */
export function maxLsn(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
