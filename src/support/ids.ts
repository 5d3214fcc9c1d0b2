import { v7 as uuidv7 } from 'uuid';

/**
 * Generates ids for new events (and other records). The default is UUIDv7: time-ordered, so
 * indexes on ids stay append-mostly.
 *
 * @example
 * ```ts
 * let n = 0;
 * const store = await openSqliteEventStore({ ids: () => `evt-${++n}` });
 * ```
 */
export type IdGenerator = () => string;

/** UUIDv7 ids. */
export const uuidV7: IdGenerator = () => uuidv7();
