import { InvalidArgumentError } from '../errors.js';
import type { ExpectedVersion } from '../eventstore/types.js';
import { describe } from '../support/validate.js';

/**
 * Parsers for command-line values. Each turns a string into a typed value or throws
 * {@link InvalidArgumentError} naming the option, so the CLI prints `error:` and `hint:` instead of a stack.
 *
 * @example
 * ```ts
 * parseExpectedVersion('3');          // 3n
 * parsePositiveInt('10', '--max');    // 10
 * parseJson('{"qty":1}', 'data');     // { qty: 1 }
 * ```
 * @module
 */

const DIGITS = /^\d+$/;

/**
 * Parses JSON text, explaining where it is broken.
 *
 * @example
 * ```ts
 * parseJson('{"qty":1}', 'data'); // { qty: 1 }
 * ```
 */
export function parseJson(text: string, argument: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // V8 repeats the whole input in its message ('…, "bad" is not valid JSON'); keep only the cause.
    const why = (e instanceof Error ? e.message : String(e)).replace(/, ".*" is not valid JSON$/s, '');
    throw new InvalidArgumentError(argument, `${describe(text)} is not valid JSON (${why})`, `Pass JSON in single quotes for the shell, e.g. '{"sku":"A-1","qty":2}'.`);
  }
}

/**
 * Parses a JSON object (metadata must be an object, not an array or a scalar).
 *
 * @example
 * ```ts
 * parseJsonObject('{"userId":"u-1"}', '--metadata');
 * ```
 */
export function parseJsonObject(text: string, argument: string): Record<string, unknown> {
  const value = parseJson(text, argument);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `${describe(value)} is not a JSON object`, `Pass an object, e.g. ${argument} '{"userId":"u-1"}'.`);
  }
  return value as Record<string, unknown>;
}

/**
 * `n`, `any`, `no_stream` or `stream_exists`.
 *
 * @example
 * ```ts
 * parseExpectedVersion('no_stream'); // 'no_stream'
 * parseExpectedVersion('3');         // 3n
 * ```
 */
export function parseExpectedVersion(text: string): ExpectedVersion {
  if (text === 'any' || text === 'no_stream' || text === 'stream_exists') return text;
  if (DIGITS.test(text)) return BigInt(text);
  throw new InvalidArgumentError('--expected-version', `${describe(text)} is not a version`, 'Use a whole number ≥ 0 (0 means no stream yet), any, no_stream or stream_exists.');
}

/**
 * A whole number ≥ 0 as a bigint (a stream version or a global position).
 *
 * @example
 * ```ts
 * parseBigIntArg('100', '--from'); // 100n
 * ```
 */
export function parseBigIntArg(text: string, argument: string): bigint {
  if (!DIGITS.test(text)) {
    throw new InvalidArgumentError(argument, `${describe(text)} is not a whole number`, `Pass ${argument} as a whole number ≥ 0, e.g. ${argument} 1.`);
  }
  return BigInt(text);
}

/**
 * A whole number ≥ 1 that fits in a JS number.
 *
 * @example
 * ```ts
 * parsePositiveInt('10', '--max'); // 10
 * ```
 */
export function parsePositiveInt(text: string, argument: string): number {
  const n = DIGITS.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(argument, `${describe(text)} is not a positive whole number`, `Pass ${argument} as a whole number ≥ 1, e.g. ${argument} 10.`);
  }
  return n;
}

/**
 * A comma-separated list of event types.
 *
 * @example
 * ```ts
 * parseTypes('ItemAdded, ItemRemoved'); // ['ItemAdded', 'ItemRemoved']
 * ```
 */
export function parseTypes(text: string): string[] {
  const types = text.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  if (types.length === 0) {
    throw new InvalidArgumentError('--types', `${describe(text)} names no event type`, 'Pass a comma-separated list, e.g. --types ItemAdded,ItemRemoved.');
  }
  return types;
}
