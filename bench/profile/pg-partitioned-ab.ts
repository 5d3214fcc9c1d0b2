/**
 * Interleaved A/B of the PostgreSQL event store on a plain events table against a day-partitioned one
 * (for tuning; not part of `npm run bench`): sequential single-event appends, one stream per round.
 *   npx tsx bench/profile/pg-partitioned-ab.ts [appends=2000] [rounds=5] [ahead=3,30]
 * Each `ahead` value is a partitioned store with that many partitions after the current one (every append
 * looks its stream's head up in each attached partition). Within a round the stores take turns every 100
 * appends (rotating who goes first), so load from other work on the machine falls on all of them alike.
 * Prints each round's appends/s and the median of the per-round ratios partitioned/plain.
 */
import { performance } from 'node:perf_hooks';
import { type EventStore, openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../../test/support/pg-schema.js';

const appends = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const aheads = (process.argv[4] ?? '3,30').split(',').map(Number);

const variants: Array<{ name: string; ahead: number | null }> = [{ name: 'plain', ahead: null }, ...aheads.map((ahead) => ({ name: `partitioned ahead=${ahead}`, ahead }))];
const schemas = variants.map(() => freshSchemaName('pab'));

async function open(i: number): Promise<EventStore> {
  const { ahead } = variants[i]!;
  return openPostgresEventStore({ connectionString: TEST_PG_URL, schema: schemas[i]!, maxConnections: 2, ...(ahead === null ? {} : { partitioning: { interval: 'day', ahead } }) });
}

const CHUNK = 100;

/** Appends `CHUNK` events one by one to `stream` (at version `from`); returns the milliseconds taken. */
async function chunk(store: EventStore, stream: string, from: number): Promise<number> {
  const start = performance.now();
  for (let k = from; k < from + CHUNK; k++) await store.appendToStream(stream, [{ type: 'Tick', data: { k } }], { expectedVersion: BigInt(k) });
  return performance.now() - start;
}

/** One round: every store appends `appends` events to a new stream, taking turns every `CHUNK`. */
async function round(r: number): Promise<number[]> {
  const ms = variants.map(() => 0);
  for (let c = 0; c < appends / CHUNK; c++) {
    for (let j = 0; j < variants.length; j++) {
      const i = (j + c) % variants.length;
      ms[i]! += await chunk(stores[i]!, `bench-${r}`, c * CHUNK);
    }
  }
  return ms.map((t) => appends / (t / 1000));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stores = await Promise.all(variants.map((_, i) => open(i)));
const rates = variants.map(() => [] as number[]);
try {
  for (const s of stores) await chunk(s, 'warm-up', 0); // connections, prepared statements
  for (let r = 0; r < rounds; r++) {
    (await round(r)).forEach((rate, i) => rates[i]!.push(rate));
    console.log(`round ${r}: ${variants.map((v, i) => `${v.name} ${Math.round(rates[i]![r]!)}/s`).join(', ')}`);
  }
  for (let i = 1; i < variants.length; i++) {
    const ratios = rates[i]!.map((x, r) => x / rates[0]![r]!);
    console.log(`${variants[i]!.name} / plain: median ${median(ratios).toFixed(2)}x (rounds ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
  }
} finally {
  await Promise.all(stores.map((s) => s.close()));
  await dropSchemas(schemas);
}
