/**
 * What event-id generation costs on the append path: Tessera with its default ids (uuid v7, which asks
 * crypto for 16 random bytes per id) against the same uuid v7 fed from a pooled random buffer.
 *   npx tsx bench/profile/ids-ab.ts [rounds]
 */
import { performance } from 'node:perf_hooks';
import { v7 as uuidv7 } from 'uuid';
import { type EventStore, openSqliteEventStore } from '../../src/index.js';
import { pooledUuidV7 } from '../ids.js';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';

const rounds = Number(process.argv[2] ?? 9);
const files = [tempFile('a.db'), tempFile('b.db')];
const stores: [string, EventStore][] = [
  ['default ids', await openSqliteEventStore({ path: files[0]!.path, synchronous: 'NORMAL' })],
  ['pooled ids', await openSqliteEventStore({ path: files[1]!.path, synchronous: 'NORMAL', ids: pooledUuidV7 })],
];
const batch = Array.from({ length: 1000 }, (_, i) => ({ type: EVENT_TYPE, data: eventData(i) }));
const us: Record<string, number[]> = {};
const t0 = performance.now();
for (let i = 0; i < 100_000; i++) uuidv7();
const perDefault = ((performance.now() - t0) * 1000) / 100_000;
const t1 = performance.now();
for (let i = 0; i < 100_000; i++) pooledUuidV7();
const perPooled = ((performance.now() - t1) * 1000) / 100_000;
for (let r = 0; r < rounds; r++) {
  for (const [name, store] of r % 2 ? [...stores].reverse() : stores) {
    const t = performance.now();
    for (let k = 0; k < 5; k++) await store.appendToStream(`s-${r}-${k}`, batch);
    (us[name] ??= []).push(((performance.now() - t) * 1000) / 5000);
  }
}
console.log(`uuid v7 alone: default ${perDefault.toFixed(2)}µs, pooled ${perPooled.toFixed(2)}µs per id`);
for (const [name, xs] of Object.entries(us)) console.log(`${name}: ${xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(2)}µs per event in 1,000-event batches`);
for (const [, s] of stores) await s.close();
for (const f of files) f.remove();
