import { InvalidArgumentError } from '../errors.js';

/**
 * Small guards shared by every public entry point. Each throws {@link InvalidArgumentError} naming the
 * argument, what was wrong and how to fix it.
 *
 * @example
 * ```ts
 * const n = requirePositiveInt(opts.maxCount, 'maxCount');
 * ```
 */
export function requirePositiveInt(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `${describe(value)} is not a positive integer`, `Pass a whole number ≥ 1 as ${argument}.`);
  }
  return value;
}

/** The largest version or position any adapter stores (SQLite INTEGER and PostgreSQL int8). */
export const MAX_INT64 = 2n ** 63n - 1n;

/** Accepts a bigint or a safe-integer number in [`min`, 2^63 - 1] and returns it as a bigint. */
export function requireBigIntAtLeast(value: unknown, argument: string, min: bigint): bigint {
  let v: bigint | undefined;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  if (v === undefined || v < min || v > MAX_INT64) {
    throw new InvalidArgumentError(argument, `${describe(value)} is not a whole number from ${min} to 2^63 - 1`, `Pass ${argument} as a bigint such as ${min}n.`);
  }
  return v;
}

/** A non-empty string of at most `maxBytes` UTF-8 bytes. */
export function requireBoundedString(value: unknown, argument: string, maxBytes: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(argument, `${describe(value)} is not a non-empty string`, `Pass ${argument} as a non-empty string.`);
  }
  // Fast path: a string of n UTF-16 units has at most 3n UTF-8 bytes.
  if (value.length * 3 > maxBytes && Buffer.byteLength(value, 'utf8') > maxBytes) {
    throw new InvalidArgumentError(argument, `is ${Buffer.byteLength(value, 'utf8')} bytes long (limit ${maxBytes})`, `Shorten ${argument} to at most ${maxBytes} UTF-8 bytes.`);
  }
  if (value.includes('\u0000')) {
    throw new InvalidArgumentError(argument, 'contains the character U+0000', `Remove U+0000 from ${argument}.`);
  }
  return value;
}

/** A plain object (or undefined when optional). */
export function requireOptionsObject(value: unknown, argument: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `${describe(value)} is not an options object`, `Pass ${argument} as an object literal, e.g. { maxCount: 10 }.`);
  }
  return value as Record<string, unknown>;
}

/** A short, safe description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
