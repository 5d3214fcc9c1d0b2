import { createHash } from 'node:crypto';
import { describePgError } from './postgres-errors.js';

/**
 * Which statements of a `prepareWrites` transaction run as named prepared statements. Only parameterized
 * INSERT, UPDATE and DELETE without RETURNING: they have no result columns, so a cached plan never fails
 * with "cached plan must not change result type" after a table changes (PostgreSQL re-plans them from
 * their text), and a statement with parameters never carries several statements. At most
 * {@link MAX_PREPARED} texts per process get a name, so SQL built with inlined values cannot fill every
 * pooled connection with plans; other statements run unnamed as before.
 * @module
 */

/** Statement texts per process that may get a name. */
export const MAX_PREPARED = 256;

const WRITE = /^\s*(?:insert|update|delete)\s/i;
const RETURNING = /\breturning\b/i;
// A named statement failing with one of these is run unnamed from then on: its stored plan or parameter
// types no longer fit the table (a column changed type under it) or the server forgot it (a pooler reset).
const UNNAME = new Set(['0A000', '42804', '42P18', '26000']);

const names = new Map<string, string | null>();

/** The prepared-statement name for a translated `text` with `count` parameters, or undefined to run it unnamed. */
export function preparedName(text: string, count: number): string | undefined {
  if (count === 0) return undefined;
  let name = names.get(text);
  if (name === undefined) {
    if (names.size >= MAX_PREPARED) return undefined;
    name = WRITE.test(text) && !RETURNING.test(text) ? `tessera_w_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` : null;
    names.set(text, name);
  }
  return name ?? undefined;
}

/** After a named statement failed: stop naming its text when the failure came from the stored plan. */
export function unnameAfter(text: string, error: unknown): void {
  if (UNNAME.has(describePgError(error).code)) names.set(text, null);
}
