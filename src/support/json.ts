import { InvalidArgumentError } from '../errors.js';

/**
 * Serializes `value` to JSON, refusing anything JSON would silently change or lose:
 * BigInt, functions, symbols, non-finite numbers, circular references, `undefined` where a value is required,
 * Maps, Sets, typed arrays and other class instances (Dates excepted), symbol-keyed properties, and U+0000
 * or lone surrogates in strings (PostgreSQL jsonb cannot hold them; SQLite and PostgreSQL must behave alike).
 *
 * @example
 * ```ts
 * encodeJson({ total: 10 }, 'event data'); // '{"total":10}'
 * encodeJson({ n: 1n }, 'event data');     // throws InvalidArgumentError
 * ```
 */
export function encodeJson(value: unknown, argument: string): string {
  // The fast check builds no paths and keeps no cycle set; only a value it cannot vouch for pays for the
  // walk that names the offending path (and finds cycles).
  if (!isPlainJson(value, 0)) checkJsonValue(value, argument, '$', new Set());
  return JSON.stringify(value);
}

// Deeper than this, the fast check gives up and the full walk decides (it also catches cycles this way).
const FAST_MAX_DEPTH = 64;

/** True when `value` passes every rule of {@link checkJsonValue}; false means "let the full walk decide". */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !value.includes('\u0000') && (value as string & { isWellFormed(): boolean }).isWellFormed();
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > FAST_MAX_DEPTH) return false;
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined || !isPlainJson(item, depth + 1)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) {
    if (key.includes('\u0000') || !(key as string & { isWellFormed(): boolean }).isWellFormed()) return false;
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined && !isPlainJson(child, depth + 1)) return false;
  }
  return true;
}

const HINT = 'Pass plain JSON values: objects, arrays, strings without U+0000, finite numbers, booleans and null. Convert BigInt to a string and Dates to ISO strings first.';

function fail(argument: string, path: string, why: string): never {
  throw new InvalidArgumentError(argument, `${path} ${why}`, HINT);
}

// U+0000 and lone surrogates: PostgreSQL jsonb refuses both, and every adapter must accept the same values.
function checkString(value: string, argument: string, path: string): void {
  if (value.includes('\u0000')) fail(argument, path, 'contains the character U+0000');
  if (!(value as string & { isWellFormed(): boolean }).isWellFormed()) fail(argument, path, 'contains a lone UTF-16 surrogate');
}

// Walks the value once; cheaper than JSON.stringify with a replacer and catches what stringify drops silently.
function checkJsonValue(value: unknown, argument: string, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      checkString(value, argument, path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(argument, path, `is ${value}, which JSON cannot represent`);
      return;
    case 'object':
      break;
    default:
      fail(argument, path, `is a ${typeof value}, which is not JSON-serializable`);
  }
  if (value === null) return;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) fail(argument, path, 'is an invalid Date');
    return;
  }
  if (seen.has(value)) fail(argument, path, 'is a circular reference');
  seen.add(value);
  const isArray = Array.isArray(value);
  if (!isArray) {
    // Maps, Sets, typed arrays and class instances serialize to something else ("{}", index keys): refuse.
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      fail(argument, path, `is a ${(value as object).constructor?.name ?? 'non-plain object'}, which JSON would not preserve`);
    }
  }
  if (Object.getOwnPropertySymbols(value).length > 0) fail(argument, path, 'has symbol-keyed properties, which JSON drops');
  if (isArray) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) fail(argument, `${path}[${i}]`, 'is undefined (JSON would turn it into null)');
      checkJsonValue(value[i], argument, `${path}[${i}]`, seen);
    }
  } else {
    for (const key of Object.keys(value)) {
      checkString(key, argument, `${path} key`);
      const child = (value as Record<string, unknown>)[key];
      // An undefined property is simply absent in JSON, as everywhere in JS serialization.
      if (child !== undefined) checkJsonValue(child, argument, `${path}.${key}`, seen);
    }
  }
  seen.delete(value);
}
