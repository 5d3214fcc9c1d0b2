import { afterAll, describe, expect, it } from 'vitest';
import { type AppendHook, openPostgresEventStore, storeDatabase } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const counter: AppendHook = {
  name: 'counter',
  // Unqualified: the store's connections put its schema first on the search_path.
  setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS type_count (type TEXT PRIMARY KEY, n INTEGER NOT NULL)'),
  apply: async (events, tx) => {
    for (const e of events) {
      if (e.type === 'Poison') throw new Error('projection refused');
      await tx.run('INSERT INTO type_count (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = type_count.n + 1', [e.type]);
    }
  },
};

describe('append hooks (PostgreSQL)', () => {
  it('commit with the append, roll it back when they throw, skip idempotent retries, and see the recorded positions', async () => {
    const schema = freshSchemaName('hooks');
    schemas.push(schema);
    const positions: bigint[] = [];
    const store = await openPostgresEventStore({
      connectionString: TEST_PG_URL,
      schema,
      appendHooks: [counter, { name: 'positions', apply: (events) => void positions.push(...events.map((e) => e.globalPosition)) }],
    });
    try {
      const db = storeDatabase(store);
      expect(db.dialect).toBe('postgres');
      await Promise.all([
        store.appendToStream('a', [{ type: 'A', data: {}, id: 'e1' }]),
        store.appendToStream('b', [{ type: 'A', data: {} }, { type: 'B', data: {} }]),
        store.appendToStream('c', [{ type: 'B', data: {} }, { type: 'Poison', data: {} }]).catch((e: unknown) => e),
      ]);
      await store.appendToStream('a', [{ type: 'A', data: {}, id: 'e1' }]); // retry: no second count
      await expect(store.appendToStream('d', [{ type: 'Poison', data: {} }])).rejects.toThrow('projection refused');
      const rows = await db.query<{ type: string; n: number }>(`SELECT type, n FROM "${schema}".type_count ORDER BY type`);
      expect(rows).toEqual([{ type: 'A', n: 2 }, { type: 'B', n: 1 }]);
      expect(await store.streamExists('c')).toBe(false);
      expect(await store.streamExists('d')).toBe(false);
      const all = await store.readAll();
      expect(all.length).toBe(3);
      // Hooks saw the positions the events were stored at (plus those of rolled-back appends).
      for (const e of all) expect(positions).toContain(e.globalPosition);
    } finally {
      await store.close();
    }
  });
});
