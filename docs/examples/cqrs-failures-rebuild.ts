import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openSqliteEventStore, projection, projectionRef, skipProjection, startProjector, storeDatabase, waitFor } from 'tessera';

const orderCount = projection({
  name: 'order_count', version: 1, tables: ['order_count'], handles: ['OrderPlaced'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.order_count} (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)`),
  apply: async (e, db, t) => {
    if ((e.data as { total: number }).total < 0) throw new Error('negative total');
    await db.run(`INSERT INTO ${t.order_count} (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = ${t.order_count}.n + 1`);
  },
});

const store = await openSqliteEventStore();
const db = storeDatabase(store);
const projector = await startProjector({ store, projections: [orderCount], retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 } });

await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: { total: 30 } }]);
const swapped = once(projector.events, 'rebuild-swapped');
await projector.rebuild('order_count'); // replays the log into order_count__b1, then swaps it in
assert.deepEqual((await swapped)[0], { name: 'order_count', version: 1, position: 1n });

const failed = once(projector.events, 'failed');
await store.appendToStream('order-2', [{ type: 'OrderPlaced', data: { total: -1 } }]); // a poison event
const third = await store.appendToStream('order-3', [{ type: 'OrderPlaced', data: { total: 12 } }]);
assert.equal((await failed)[0].error.message, 'negative total'); // the error apply threw
assert.equal((await projector.status())[0]?.state, 'failed'); // parked: it waits for an operator

const skipped = await skipProjection(db, 'order_count'); // or retryProjection(db, 'order_count') after a fix
assert.equal(skipped.position, 2n);
await waitFor(projectionRef(db, 'order_count'), third.lastGlobalPosition, { timeoutMs: 5_000 });
assert.deepEqual(await db.query('SELECT n FROM order_count'), [{ n: 2 }]);
await projector.stop();
await store.close();
console.log('cqrs: rebuild, parked projection and skip checked');
