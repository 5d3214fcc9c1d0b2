import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventStore, InvalidArgumentError, openSqliteEventStore } from '../../src/index.js';

/**
 * Read positions and versions are int64 in every engine. A start beyond that is either past the end
 * (no events) or refused as an invalid argument; it must never surface as a storage failure.
 */
describe('SQLite event store: read starts at the edge of int64', () => {
  let store: EventStore;
  beforeAll(async () => {
    store = await openSqliteEventStore();
    await store.appendToStream('s', [{ type: 'A', data: 1 }, { type: 'B', data: 2 }]);
  });
  afterAll(async () => {
    await store.close();
  });

  const withinInt64 = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

  it('reads from any version or position up to 2^63 - 1', async () => {
    await fc.assert(
      fc.asyncProperty(withinInt64, async (from) => {
        expect((await store.readStream('s', { fromVersion: from })).length).toBe(from <= 1n ? 2 : from === 2n ? 1 : 0);
        expect((await store.readStream('s', { fromVersion: from, direction: 'backward' })).length).toBe(from >= 2n ? 2 : Number(from));
        expect((await store.readAll({ fromPosition: from })).length).toBe(from <= 1n ? 2 : from === 2n ? 1 : 0);
      }),
      { numRuns: 200, examples: [[2n ** 63n - 1n], [0n], [1n], [2n], [3n]] },
    );
  });

  it('refuses a start above 2^63 - 1 with InvalidArgumentError', async () => {
    for (const from of [2n ** 63n, 2n ** 64n, 2n ** 80n]) {
      await expect(store.readStream('s', { fromVersion: from })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.readAll({ fromPosition: from })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
