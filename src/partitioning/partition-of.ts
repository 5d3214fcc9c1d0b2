import { InvalidArgumentError } from '../errors.js';
import { bucketOf } from '../support/hash.js';

/**
 * The most partitions a consumer group may have: each is a lease and a checkpoint row, so thousands of
 * partitions buy nothing but bookkeeping (members read only their partitions' events either way).
 * @example
 * ```ts
 * openConsumerGroup({ store, group: 'mail', partitions: Math.min(64, MAX_PARTITIONS), handler });
 * ```
 */
export const MAX_PARTITIONS = 4096;

/**
 * The log partition of a stream: xxHash64 of the stream id mod `partitions` (the same hash as sharding).
 * A stream's events all land in one partition, so one member at a time sees them, in order.
 * @example
 * ```ts
 * partitionOf('order-7', 8); // 0 … 7, the same in every process and release
 * ```
 */
export function partitionOf(streamId: string, partitions: number): number {
  return bucketOf(streamId, partitions);
}

/**
 * Checks a partition count: a whole number from 1 to {@link MAX_PARTITIONS}.
 * @example
 * ```ts
 * requirePartitionCount(8, 'partitions'); // 8
 * ```
 */
export function requirePartitionCount(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_PARTITIONS) {
    throw new InvalidArgumentError(argument, `${String(value)} is not a whole number from 1 to ${MAX_PARTITIONS}`, `Pass ${argument} as e.g. 8; it is fixed when the group is created.`);
  }
  return value;
}
