import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type RecordedEvent } from 'tessera';

const dir = mkdtempSync(join(tmpdir(), 'tessera-docs-'));
const path = join(dir, 'accounts.db');

// Version 1 of the app stored Deposited without a currency.
const v1 = await openSqliteEventStore({ path });
await v1.appendToStream('account-9', [{ type: 'Deposited', data: { amount: 100 } }]);
await v1.close();

// Version 2 reads old events in the new shape (upcasters run on read; stored bytes are never rewritten).
const store = await openSqliteEventStore({
  path,
  upcasters: [{ type: 'Deposited', fromSchemaVersion: 1, upcast: (data) => ({ ...(data as object), currency: 'EUR' }) }],
});
const [old] = await store.readStream('account-9');
assert.deepEqual([old?.data, old?.schemaVersion], [{ amount: 100, currency: 'EUR' }, 2]);

await new Promise((resolve) => setTimeout(resolve, 5));
const beforeWithdrawal = new Date();
await new Promise((resolve) => setTimeout(resolve, 5));
await store.appendToStream('account-9', [{ type: 'Withdrawn', data: { amount: 30, currency: 'EUR' } }]);

// Current state is a fold of the stream; asOf answers "what was it then?" by version or by time.
const balance = {
  initialState: () => 0,
  evolve: (b: number, e: RecordedEvent) => b + (e.data as { amount: number }).amount * (e.type === 'Withdrawn' ? -1 : 1),
};
assert.deepEqual(await store.aggregateStream('account-9', balance), { state: 70, version: 2n });
assert.deepEqual(await store.aggregateStream('account-9', { ...balance, asOf: { version: 1n } }), { state: 100, version: 1n });
assert.deepEqual(await store.aggregateStream('account-9', { ...balance, asOf: { time: beforeWithdrawal } }), { state: 100, version: 1n });

// Snapshots: saved once `every` events were folded since the last one; later folds start from it.
let folded = 0;
const counted = { ...balance, evolve: (b: number, e: RecordedEvent) => (folded++, balance.evolve(b, e)) };
const withSnapshot = { ...counted, snapshot: { name: 'balance', schemaVersion: 1, every: 2 } };
assert.deepEqual(await store.aggregateStream('account-9', withSnapshot), { state: 70, version: 2n });
assert.equal(folded, 2);
assert.deepEqual(await store.aggregateStream('account-9', withSnapshot), { state: 70, version: 2n });
assert.equal(folded, 2); // read from the snapshot: evolve was not called again

await store.close();
rmSync(dir, { recursive: true, force: true });
console.log('event store: upcasters, temporal queries and snapshots checked');
