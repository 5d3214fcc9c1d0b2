import { ConcurrencyError } from '../errors.js';
import type { ExpectedVersion } from './types.js';

/**
 * Throws {@link ConcurrencyError} unless a stream at version `actual` (0n = absent) satisfies `expected`.
 * Adapters call it inside the append's transaction, after reading the version under the write lock.
 */
export function checkExpectedVersion(streamId: string, expected: ExpectedVersion, actual: bigint): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 0n) ||
    (expected === 'stream_exists' && actual > 0n) ||
    (typeof expected === 'bigint' && expected === actual);
  if (!ok) throw new ConcurrencyError(streamId, expected, actual);
}
