import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_EVENTS_PER_APPEND, openPostgresEventStore, storeTransaction } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ type: 'Bulk', data: { tag, i, s: 'quote " backslash \\ comma , brace { } é' } }));

describe('PostgreSQL append limits', () => {
  it('stores the largest allowed batch in one append, and refuses a transaction past 65,536 events without partial writes', async () => {
    const schema = freshSchemaName('limits');
    schemas.push(schema);
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    try {
      const r = await store.appendToStream('bulk', batch(MAX_EVENTS_PER_APPEND, 'one'));
      expect(r.nextExpectedVersion).toBe(BigInt(MAX_EVENTS_PER_APPEND));
      const page = await store.readStream('bulk', { fromVersion: 9_999n });
      expect(page.map((e) => e.data)).toEqual([
        { tag: 'one', i: 9_998, s: 'quote " backslash \\ comma , brace { } é' },
        { tag: 'one', i: 9_999, s: 'quote " backslash \\ comma , brace { } é' },
      ]);
      // Positions of one transaction are (xid << 16) + 0 … 65,535: a seventh full batch does not fit.
      const outcome = await storeTransaction(store, async (tx) => {
        for (let k = 0; k < 6; k++) await tx.appendToStream(`t-${k}`, batch(MAX_EVENTS_PER_APPEND, `t${k}`));
        return tx.appendToStream('t-6', batch(MAX_EVENTS_PER_APPEND, 't6')).catch((e: unknown) => e);
      });
      expect(outcome).toBeInstanceOf(InvalidArgumentError);
      expect(await store.streamExists('t-5')).toBe(true);
      expect(await store.streamExists('t-6')).toBe(false);
      const all = await store.readAll({ fromPosition: r.lastGlobalPosition + 1n });
      expect(all).toHaveLength(6 * MAX_EVENTS_PER_APPEND);
    } finally {
      await store.close();
    }
  }, 120_000);
});
