/**
 * The one key hash of Tessera: xxHash64 (from `@node-rs/xxhash`) of a key's UTF-8 bytes, seed 0. Sharding maps
 * a key to a fixed logical slot with it and log partitioning maps a stream id to a partition with it, so both
 * agree for every process and every release: the output for a given key must never change.
 * @example
 * ```ts
 * hashKey('tenant-42');            // 64-bit unsigned bigint
 * bucketOf('order-7', 4096);       // 0 … 4095, stable forever
 * ```
 * @module
 */
import { xxh64 } from '@node-rs/xxhash';

/**
 * xxHash64 of the key's UTF-8 bytes, seed 0, as an unsigned 64-bit bigint.
 * @example
 * ```ts
 * hashKey('abc'); // 4952883123889572249n
 * ```
 */
export function hashKey(key: string): bigint {
  return xxh64(key);
}

/**
 * The bucket (slot or partition) of a key among `buckets` buckets: `hashKey(key) mod buckets`.
 * `buckets` must be a positive safe integer (callers validate configuration before routing).
 * @example
 * ```ts
 * bucketOf('order-7', 16); // 0 … 15
 * ```
 */
export function bucketOf(key: string, buckets: number): number {
  if (buckets !== lastBuckets) {
    lastModulus = BigInt(buckets);
    lastBuckets = buckets;
  }
  return Number(xxh64(key) % lastModulus);
}

// Callers use one bucket count over and over: converting it to a BigInt once saves an allocation per call.
let lastBuckets = 0;
let lastModulus = 1n;

/**
 * `bucketOf` for a fixed bucket count, precomputed: with a power of two (4,096 slots) the modulo is a bit
 * mask on the hash. Same outputs as {@link bucketOf} for every key.
 * @example
 * ```ts
 * const slotOf = bucketer(4096);
 * slotOf('order-7') === bucketOf('order-7', 4096); // true
 * ```
 */
export function bucketer(buckets: number): (key: string) => number {
  const big = BigInt(buckets);
  if ((buckets & (buckets - 1)) === 0) {
    const mask = big - 1n;
    return (key) => Number(xxh64(key) & mask);
  }
  return (key) => Number(xxh64(key) % big);
}

/**
 * {@link hashKey} as a signed 64-bit integer (the same bits): the form a `bigint` SQL column stores, so a
 * database can select the rows of some buckets without hashing (see `partitionSql` in the PostgreSQL store).
 * @example
 * ```ts
 * signedHashKey('abc') === BigInt.asIntN(64, hashKey('abc')); // true
 * ```
 */
export function signedHashKey(key: string): bigint {
  return BigInt.asIntN(64, xxh64(key));
}
