import assert from 'node:assert/strict';
import { ConcurrencyError, openSqliteEventStore, type RecordedEvent, storeDatabase, storeTransaction } from 'tessera';

const store = await openSqliteEventStore();
await store.appendToStream('order-1', [{ type: 'Placed', data: { total: 30 } }]);

// Catch-up, then live: each event once, in global order; the handler's promise settles before the next.
const seen: string[] = [];
const subscription = store.subscribeToAll({ handler: (e: RecordedEvent) => void seen.push(`${e.globalPosition} ${e.type}`) });
await store.appendToStream('order-1', [{ type: 'Paid', data: {} }]);
while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
await subscription.stop();
assert.deepEqual(seen, ['1 Placed', '2 Paid']);
assert.equal(subscription.position, 2n); // resume later with fromPosition: subscription.position + 1n

// The whole log in pages with flat memory.
const types: string[] = [];
for await (const e of store.streamAll({ fromPosition: 1n })) types.push(e.type);
assert.deepEqual(types, ['Placed', 'Paid']);

// Events and other tables in one transaction: both commit, or neither.
const db = storeDatabase(store);
await db.exec('CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT NOT NULL)');
await storeTransaction(store, async (tx) => {
  await tx.appendToStream('order-2', [{ type: 'Shipped', data: {} }], { expectedVersion: 'no_stream' });
  await tx.sql.run('INSERT INTO orders (id, status) VALUES (?, ?)', ['order-2', 'shipped']);
});
await assert.rejects(
  storeTransaction(store, async (tx) => {
    await tx.appendToStream('order-2', [{ type: 'Lost', data: {} }], { expectedVersion: 'no_stream' }); // conflicts
    await tx.sql.run('UPDATE orders SET status = ? WHERE id = ?', ['lost', 'order-2']);
  }),
  ConcurrencyError,
);
assert.deepEqual(await db.query('SELECT status FROM orders'), [{ status: 'shipped' }]);
assert.equal((await store.readStream('order-2')).length, 1);

await store.close();
console.log('event store: subscription, streaming and store transactions checked');
