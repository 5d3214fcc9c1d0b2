/**
 * Server time of one `append_events_group` call without its fsync (tuning aid): a group of 8 on one connection with
 * `synchronous_commit = off`, alternating rounds with and without `plan_cache_mode = force_generic_plan` on the
 * function, then the round trip of `SELECT 1`. `TESSERA_BENCH_PG` names the server (default: the shared test one).
 *   npx tsx bench/profile/pg-group-time.ts
 */
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { openPostgresEventStore } from '../../src/index.js';
const schema = `gt_${Math.random().toString(36).slice(2, 8)}`;
const url = process.env.TESSERA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const store = await openPostgresEventStore({ connectionString: url, schema });
const c = new pg.Client({ connectionString: url });
await c.connect();
await c.query('SET synchronous_commit = off');
const ev = JSON.stringify({ sku: 'SKU-1', qty: 1, price: 9.99, note: 'benchmark event payload' });
let n = 0;
const arr = (xs: string[]) => `{${xs.map((x) => `"${x.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
async function group(k: number) {
  const ids = Array.from({ length: k }, () => `id-${n++}`);
  const streams = Array.from({ length: k }, (_, i) => `s-${i}-${n}`);
  await c.query(`SELECT * FROM ${schema}.append_events_group($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint)`,
    [arr(streams.map((s) => `${schema}:${s}`)), arr(streams), arr(streams.map(() => 'any')), `{${streams.map(() => 1).join(',')}}`, arr(streams.map(() => new Date().toISOString())), arr(ids), arr(ids.map(() => 'ItemAdded')), arr(ids.map(() => ev)), `{${ids.map(() => 'NULL').join(',')}}`, `{${ids.map(() => 1).join(',')}}`, '0']);
}
for (let i = 0; i < 200; i++) await group(8);
const sig = `${schema}.append_events_group(text[], text[], text[], int[], timestamptz[], text[], text[], text[], text[], int[], bigint, bigint[])`;
const res: Record<string, number[]> = { custom: [], generic: [] };
for (let r = 0; r < 16; r++) {
  const mode = r % 2 === 0 ? 'generic' : 'custom';
  await c.query(mode === 'generic' ? `ALTER FUNCTION ${sig} SET plan_cache_mode = force_generic_plan` : `ALTER FUNCTION ${sig} RESET plan_cache_mode`);
  for (let i = 0; i < 20; i++) await group(8);
  const xs: number[] = [];
  for (let i = 0; i < 100; i++) { const t = performance.now(); await group(8); xs.push(performance.now() - t); }
  xs.sort((a, b) => a - b);
  res[mode]!.push(xs[50]! * 1000);
}
for (const [m, xs] of Object.entries(res)) console.log(`group of 8, ${m} plans: µs per round`, xs.map((x) => x.toFixed(0)).join(' '), 'median', [...xs].sort((a, b) => a - b)[4]!.toFixed(0));
const t0 = performance.now(); for (let i = 0; i < 300; i++) await c.query('SELECT 1'); console.log('SELECT 1 rtt', ((performance.now() - t0) / 300 * 1000).toFixed(0), 'µs');
await c.query(`DROP SCHEMA ${schema} CASCADE`);
await c.end();
await store.close();
