import { randomFillSync } from 'node:crypto';
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

// The uuid package asks crypto for 16 bytes per id (≈2.3 µs, more than a batched insert); drawing them from
// a 4 KiB pool costs ≈0.4 µs (bench/profile/ids-ab.ts). The bytes are the same CSPRNG output either way.
const pool = new Uint8Array(16 * 256);
let offset = pool.length;

/** UUIDv7 ids: a millisecond timestamp prefix, then 74 random bits. */
export const uuidV7: IdGenerator = () => {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return uuidv7({ random: pool.subarray(offset, (offset += 16)) });
};
