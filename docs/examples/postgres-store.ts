import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgresEventStore, storeDatabase } from 'tessera';

const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `billing_${process.pid}`; // created if missing
const store = await openPostgresEventStore({ connectionString, schema });

// A subscription is woken by LISTEN/NOTIFY when any process appends (and polls as a fallback).
const seen: string[] = [];
const subscription = store.subscribeToAll({ handler: (e) => void seen.push(`${e.streamId} ${e.type}`) });
await store.appendToStream('invoice-1', [{ type: 'InvoiceIssued', data: { total: 30 } }]);
await store.appendToStream('invoice-2', [{ type: 'InvoiceIssued', data: { total: 12 } }]);
while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
await subscription.stop();
assert.deepEqual(seen, ['invoice-1 InvoiceIssued', 'invoice-2 InvoiceIssued']);

const db = storeDatabase(store); // `?` placeholders, like SQLite; the schema is first on search_path
assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM events'), [{ n: 2 }]);
await store.close();

// Sharing a pool: the store does not change it, so put the schema on its search_path yourself.
const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema},public` });
const shared = await openPostgresEventStore({ pool, schema });
assert.equal((await shared.readAll()).length, 2);
assert.deepEqual(await storeDatabase(shared).query('SELECT current_schema() AS s'), [{ s: schema }]);
await shared.close(); // leaves the pool open
await pool.query(`DROP SCHEMA ${schema} CASCADE`); // clean up this example's schema
await pool.end();
console.log('postgres: store, LISTEN/NOTIFY subscription and shared pool checked');
