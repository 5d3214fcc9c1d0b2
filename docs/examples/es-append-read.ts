import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyError, EventIdConflictError, openSqliteEventStore } from 'tessera';

const dir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
const store = await openSqliteEventStore({ path: join(dir, 'shop.db') }); // ':memory:' when no path is given

// One append is one transaction: all its events are stored, or none.
const opened = await store.appendToStream(
  'cart-1',
  [
    { type: 'CartOpened', data: { customer: 'ann' } },
    { type: 'ItemAdded', data: { sku: 'MUG-2', qty: 2 }, metadata: { userId: 'u-1' } },
  ],
  { expectedVersion: 'no_stream' },
);
assert.equal(opened.nextExpectedVersion, 2n); // stream versions start at 1n

// Optimistic concurrency: an append that expects an older version fails and stores nothing.
await assert.rejects(
  store.appendToStream('cart-1', [{ type: 'ItemRemoved', data: { sku: 'MUG-2' } }], { expectedVersion: 1n }),
  (e: unknown) => e instanceof ConcurrencyError && e.code === 'CONCURRENCY_CONFLICT' && e.actual === 2n,
);
await store.appendToStream('cart-1', [{ type: 'ItemRemoved', data: { sku: 'MUG-2' } }], { expectedVersion: 2n });

// Reading: one stream (forward or backward), or the global log of every stream in commit order.
const [latest] = await store.readStream('cart-1', { direction: 'backward', maxCount: 1 });
assert.equal(latest?.type, 'ItemRemoved');
assert.equal(latest?.streamVersion, 3n);
const added = await store.readAll({ fromPosition: 1n, types: ['ItemAdded'] });
assert.deepEqual(added.map((e) => [e.streamId, e.data, e.metadata]), [['cart-1', { sku: 'MUG-2', qty: 2 }, { userId: 'u-1' }]]);

// Idempotent appends: an event id already stored with the same content stores nothing new.
const payment = { id: 'payment-42', type: 'PaymentReceived', data: { amount: 30 } };
const first = await store.appendToStream('invoice-1', [payment]);
const retry = await store.appendToStream('invoice-1', [payment]); // e.g. after a timeout
assert.equal(retry.lastGlobalPosition, first.lastGlobalPosition);
await assert.rejects(store.appendToStream('invoice-1', [{ ...payment, data: { amount: 99 } }]), EventIdConflictError);
assert.equal((await store.readStream('invoice-1')).length, 1);

await store.close();
rmSync(dir, { recursive: true, force: true });
console.log('event store: append, conflict, read and idempotent retry checked');
