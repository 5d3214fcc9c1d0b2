import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketer, bucketOf, hashKey } from '../../src/support/hash.js';

describe('support/hash', () => {
  it('keeps its outputs: xxHash64 seed 0 of the UTF-8 bytes', () => {
    expect(hashKey('abc')).toBe(4952883123889572249n);
    expect(hashKey('')).toBe(17241709254077376921n);
    expect(bucketOf('abc', 4096)).toBe(Number(4952883123889572249n % 4096n));
  });

  it('bucketer(n) equals bucketOf(key, n) for every key and bucket count (power of two or not)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.oneof(fc.constantFrom(1, 2, 16, 4096, 65_536), fc.integer({ min: 1, max: 1_000_000 })), (key, n) => {
        expect(bucketer(n)(key)).toBe(bucketOf(key, n));
        expect(bucketOf(key, n)).toBe(Number(hashKey(key) % BigInt(n)));
      }),
      { numRuns: 2_000 },
    );
  });
});
