import { describe, expect, it } from 'vitest';
import { type AppendHook, type RecordedEvent, storeDatabase } from '../../../src/index.js';
import { type ConformanceContext, ONE_DATABASE, withStore } from './harness.js';

const refusal = new Error('projection refused');

const counter: AppendHook = {
  name: 'counter',
  // Unqualified names: a PostgreSQL store puts its own schema first on the search_path.
  setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS conf_type_count (type TEXT PRIMARY KEY, n INTEGER NOT NULL)'),
  apply: async (events, tx) => {
    for (const e of events) {
      if (e.type === 'Poison') throw refusal;
      await tx.run('INSERT INTO conf_type_count (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = conf_type_count.n + 1', [e.type]);
    }
  },
};

/** appendHooks: code in the append's transaction (inline projections). */
export function hookCases(ctx: ConformanceContext): void {
  describe('appendHooks', () => {
    const seen: RecordedEvent[] = [];
    const recorder: AppendHook = { name: 'recorder', apply: (events) => void seen.push(...events) };

    it.skipIf(ctx.capabilities.has('severalDatabases'))('commit with the append, roll it back with the hook\'s own error, skip idempotent retries, see stored positions' + ONE_DATABASE, () =>
      withStore(
        ctx,
        async (store) => {
          seen.length = 0;
          await Promise.all([
            store.appendToStream('a', [{ type: 'A', data: { n: 1 }, id: 'hook-e1' }]),
            store.appendToStream('b', [{ type: 'A', data: {} }, { type: 'B', data: {} }]),
            store.appendToStream('c', [{ type: 'B', data: {} }, { type: 'Poison', data: {} }]).catch((e: unknown) => e),
          ]);
          await store.appendToStream('a', [{ type: 'A', data: { n: 1 }, id: 'hook-e1' }]); // a retry: counted once
          await expect(store.appendToStream('d', [{ type: 'Poison', data: {} }])).rejects.toBe(refusal);
          const rows = await storeDatabase(store).query<{ type: string; n: number | bigint }>('SELECT type, n FROM conf_type_count ORDER BY type');
          expect(rows.map((r) => [r.type, Number(r.n)])).toEqual([['A', 2], ['B', 1]]);
          expect(await store.streamExists('c')).toBe(false);
          expect(await store.streamExists('d')).toBe(false);
          const all = await store.readAll();
          expect(all).toHaveLength(3);
          // What a hook sees is what is stored (it also saw the rolled-back appends' events).
          for (const e of all) expect(seen.find((s) => s.id === e.id)).toEqual(e);
        },
        { appendHooks: [counter, recorder] },
      ));
  });
}
