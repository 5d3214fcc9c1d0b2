import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

const pool = new Uint8Array(16 * 256);
let offset = pool.length;

/**
 * UUIDv7 with random bytes drawn 4 KiB at a time. The uuid package asks crypto for 16 bytes per id, which
 * costs more than the insert itself on a busy machine (bench/profile/ids-ab.ts); the raw rows use this so
 * they measure the database, not the id generator.
 */
export function pooledUuidV7(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return uuidv7({ random: pool.subarray(offset, (offset += 16)) });
}
