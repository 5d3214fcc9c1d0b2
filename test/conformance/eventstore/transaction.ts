import { describe, expect, it } from 'vitest';
import { ConcurrencyError, storeDatabase, storeTransaction } from '../../../src/index.js';
import { type ConformanceContext, ONE_DATABASE, events, logSnapshot, until, withStore } from './harness.js';

/** storeTransaction: SQL and appends commit together or not at all; appends in it behave like plain ones. */
export function transactionCases(ctx: ConformanceContext): void {
  describe('storeTransaction', () => {
    it.skipIf(ctx.capabilities.has('severalDatabases'))('commits SQL and appends together, and rolls both back when the callback throws' + ONE_DATABASE, () =>
      withStore(ctx, async (store) => {
        const db = storeDatabase(store);
        await db.exec('CREATE TABLE IF NOT EXISTS conf_tx_orders (id TEXT PRIMARY KEY, status TEXT NOT NULL)');
        const r = await storeTransaction(store, async (tx) => {
          await tx.sql.run('INSERT INTO conf_tx_orders (id, status) VALUES (?, ?)', ['o-1', 'placed']);
          return tx.appendToStream('order-o-1', events(2, 'Placed'), { expectedVersion: 'no_stream' });
        });
        expect(r.nextExpectedVersion).toBe(2n);
        expect(await store.readStream('order-o-1')).toHaveLength(2);
        const before = await logSnapshot(store);
        await expect(
          storeTransaction(store, async (tx) => {
            await tx.sql.run('UPDATE conf_tx_orders SET status = ? WHERE id = ?', ['shipped', 'o-1']);
            await tx.appendToStream('order-o-1', events(1, 'Shipped'), { expectedVersion: 2n });
            throw new Error('changed my mind');
          }),
        ).rejects.toThrow('changed my mind');
        expect(await logSnapshot(store)).toBe(before);
        expect(await db.query('SELECT status FROM conf_tx_orders WHERE id = ?', ['o-1'])).toEqual([{ status: 'placed' }]);
      }));

    it.skipIf(ctx.capabilities.has('severalDatabases'))('checks expected versions inside the transaction; a failed append leaves nothing and the rest commits' + ONE_DATABASE, () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('tx-s', events(1));
        await storeTransaction(store, async (tx) => {
          await expect(tx.appendToStream('tx-s', events(3), { expectedVersion: 5n })).rejects.toBeInstanceOf(ConcurrencyError);
          await tx.appendToStream('tx-s', events(1, 'Next', 1), { expectedVersion: 1n });
          await tx.appendToStream('tx-other', events(1));
        });
        expect((await store.readStream('tx-s')).map((e) => e.streamVersion)).toEqual([1n, 2n]);
        expect(await store.streamExists('tx-other')).toBe(true);
        expect((await store.readAll()).length).toBe(3);
      }));

    it.skipIf(ctx.capabilities.has('severalDatabases'))('wakes live subscriptions after commit' + ONE_DATABASE, () =>
      withStore(ctx, async (store) => {
        const got: string[] = [];
        const sub = store.subscribeToAll({ handler: (e) => void got.push(e.streamId) });
        await storeTransaction(store, (tx) => tx.appendToStream('tx-live', events(1)));
        await until(() => got.length === 1);
        await sub.stop();
        expect(got).toEqual(['tx-live']);
      }));
  });
}
