import assert from 'node:assert/strict';
import { inlineProjections, openSqliteEventStore, projection, storeDatabase } from 'tessera';

const stock = projection({
  name: 'stock', version: 1, tables: ['stock'], handles: ['Restocked', 'Sold'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.stock} (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL)`),
  apply: async (e, db, t) => {
    const { sku, qty } = e.data as { sku: string; qty: number };
    const delta = e.type === 'Sold' ? -qty : qty;
    await db.run(`INSERT INTO ${t.stock} (sku, qty) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET qty = ${t.stock}.qty + excluded.qty`, [sku, delta]);
    const [row] = await db.query<{ qty: number }>(`SELECT qty FROM ${t.stock} WHERE sku = ?`, [sku]);
    if ((row?.qty ?? 0) < 0) throw new Error(`${sku} is out of stock`); // rolls the whole append back
  },
});

const store = await openSqliteEventStore({ appendHooks: inlineProjections([stock]) });
await store.appendToStream('sku-MUG', [{ type: 'Restocked', data: { sku: 'MUG', qty: 3 } }]);
await store.appendToStream('sku-MUG', [{ type: 'Sold', data: { sku: 'MUG', qty: 2 } }]);
await assert.rejects(store.appendToStream('sku-MUG', [{ type: 'Sold', data: { sku: 'MUG', qty: 5 } }]), /MUG is out of stock/);

assert.deepEqual(await storeDatabase(store).query('SELECT sku, qty FROM stock'), [{ sku: 'MUG', qty: 1 }]);
assert.equal((await store.readStream('sku-MUG')).length, 2); // the failed append stored nothing
await store.close();
console.log('cqrs: inline projection commits with the append, and vetoes it');
