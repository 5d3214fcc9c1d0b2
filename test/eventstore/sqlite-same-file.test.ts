import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEventStore, storeDatabase, storeTransaction } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

// Two stores of one process on one file: their writes must wait for each other asynchronously. SQLite's
// own lock wait is synchronous and would block the event loop the other store needs to commit.
describe('several SQLite stores on one file in one process', () => {
  it('interleave transactions, appends and writes without deadlock or lost events', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'shared.db');
    const stores = await Promise.all([1, 2, 3].map(() => openSqliteEventStore({ path, busyTimeoutMs: 1_000 })));
    try {
      await storeDatabase(stores[0]!).exec('CREATE TABLE IF NOT EXISTS touches (n INTEGER NOT NULL)');
      const work = stores.flatMap((store, s) =>
        Array.from({ length: 10 }, (_, i) => [
          storeTransaction(store, async (tx) => {
            await tx.sql.run('INSERT INTO touches (n) VALUES (?)', [s * 100 + i]);
            await new Promise((r) => setTimeout(r, 1)); // hold the transaction across a turn of the loop
            await tx.appendToStream(`tx-${s}-${i}`, [{ type: 'InTx', data: { s, i } }]);
          }),
          store.appendToStream(`plain-${s}-${i}`, [{ type: 'Plain', data: { s, i } }]),
          storeDatabase(store).run('INSERT INTO touches (n) VALUES (?)', [-(s * 100 + i)]),
        ]).flat(),
      );
      await Promise.all(work);
      const all = await stores[1]!.readAll();
      expect(all).toHaveLength(60);
      expect(new Set(all.map((e) => e.globalPosition)).size).toBe(60);
      const [row] = await storeDatabase(stores[2]!).query<{ n: number }>('SELECT count(*) AS n FROM touches');
      expect(row!.n).toBe(60);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      tmp.remove();
    }
  });
});
