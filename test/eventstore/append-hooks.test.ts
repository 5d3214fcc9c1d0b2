import { describe, expect, it } from 'vitest';
import { type AppendHook, openSqliteEventStore, storeDatabase } from '../../src/index.js';

const counter: AppendHook = {
  name: 'counter',
  setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS type_count (type TEXT PRIMARY KEY, n INTEGER NOT NULL)'),
  apply: async (events, tx) => {
    for (const e of events) {
      if (e.type === 'Poison') throw new Error('projection refused');
      await tx.run('INSERT INTO type_count (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = n + 1', [e.type]);
    }
  },
};

describe('append hooks (SQLite)', () => {
  it('commit with the append, roll it back when they throw, and skip idempotent retries', async () => {
    const store = await openSqliteEventStore({ appendHooks: [counter] });
    const db = storeDatabase(store);
    await Promise.all([
      store.appendToStream('a', [{ type: 'A', data: {}, id: 'e1' }]),
      store.appendToStream('b', [{ type: 'A', data: {} }, { type: 'B', data: {} }]),
      store.appendToStream('c', [{ type: 'B', data: {} }, { type: 'Poison', data: {} }]).catch((e: unknown) => e),
    ]);
    await store.appendToStream('a', [{ type: 'A', data: {}, id: 'e1' }]); // retry: no second count
    const refused = await store.appendToStream('d', [{ type: 'Poison', data: {} }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe('projection refused'); // the hook's own error, as on PostgreSQL
    const rows = await db.query<{ type: string; n: number }>('SELECT type, n FROM type_count ORDER BY type');
    expect(rows).toEqual([{ type: 'A', n: 2 }, { type: 'B', n: 1 }]);
    expect(await store.streamExists('c')).toBe(false);
    expect(await store.streamExists('d')).toBe(false);
    expect((await store.readAll()).length).toBe(3);
    const events = await store.readAll();
    expect(events.map((e) => e.globalPosition)).toEqual([1n, 2n, 3n]);
    await store.close();
  });
});
