/**
 * Consumer-group benchmark: `npx tsx bench/partitioning.ts [--events N] [--pg] [--runs R]`.
 * A pre-written log of N events over 200 streams (SQLite file, or a throwaway schema on the PostgreSQL at
 * TESSERA_PG_URL with --pg) is consumed by a group of 1, 2 and 4 member processes on 8 partitions; each
 * event adds one to its stream's counter in the checkpoint's transaction (exactly-once). The time runs
 * from the start signal until every partition checkpoint reached the last event; child start-up is
 * excluded. Beside it: one plain `subscribeToAll` reading the same log (no work, no checkpoint), the
 * floor of any reader. Then the rebalance pause: two in-process members under a steady writer, a third
 * joins; for each moved partition, the time from its release by the old owner to its acquisition by the
 * new one, and how many batches the unmoved partitions committed meanwhile. Never asserted anywhere.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventStore, openPostgresEventStore, openSqliteEventStore, storeDatabase } from '../src/index.js';
import { type ConsumerHandler, openConsumerGroup } from '../src/partitioning/index.js';
import { spawnTsx } from '../test/support/processes.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const EVENTS = flag('--events', 20_000);
const RUNS = flag('--runs', 1);
const PG = argv.includes('--pg');
const PG_URL = process.env.TESSERA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STREAMS = 200;
const CHILD = new URL('./partitioning-child.ts', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-part-'));
const schema = `bench_part_${randomBytes(4).toString('hex')}`;
const childArgs = PG ? ['postgres', PG_URL, schema] : ['sqlite', join(dir, 'events.db')];
const open = (): Promise<EventStore> => (PG ? openPostgresEventStore({ connectionString: PG_URL, schema, maxConnections: 4 }) : openSqliteEventStore({ path: join(dir, 'events.db') }));

async function prepare(store: EventStore): Promise<bigint> {
  const db = storeDatabase(store);
  await db.exec('CREATE TABLE IF NOT EXISTS bench_counts (stream_id TEXT PRIMARY KEY, n BIGINT NOT NULL)');
  for (let s = 0; s < STREAMS; s++) await db.run('INSERT INTO bench_counts (stream_id, n) VALUES (?, 0)', [`s-${s}`]);
  let last = 0n;
  for (let i = 0; i < EVENTS; i += 10) {
    const events = Array.from({ length: Math.min(10, EVENTS - i) }, (_, k) => ({ type: 'Tick', data: { i: i + k, pad: 'x'.repeat(100) } }));
    last = (await store.appendToStream(`s-${(i / 10) % STREAMS}`, events)).lastGlobalPosition;
  }
  return last;
}

async function groupRun(store: EventStore, members: number, head: bigint, run: number): Promise<number> {
  const group = `bench-${members}-${run}`;
  const children = Array.from({ length: members }, (_, i) => spawnTsx(CHILD, [...childArgs, group, `m${i}`], { name: `m${i}` }));
  for (const c of children) await c.waitForLine((l) => l === 'ready', 30_000);
  const started = performance.now();
  for (const c of children) c.process.kill('SIGUSR1');
  const db = storeDatabase(store);
  for (;;) {
    const rows = await db.query<{ n: unknown; lo: unknown }>('SELECT count(*) AS n, min(position) AS lo FROM tessera_group_checkpoints WHERE group_name = ?', [group]).catch(() => []);
    if (Number(rows[0]?.n ?? 0) === 8 && BigInt((rows[0]?.lo ?? 0) as string | number | bigint) >= head) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ms = performance.now() - started;
  for (const c of children) await c.kill9();
  return (EVENTS * 1000) / ms;
}

async function subscriptionRun(store: EventStore, head: bigint): Promise<number> {
  const started = performance.now();
  let seen = 0;
  await new Promise<void>((resolve) => {
    const sub = store.subscribeToAll({ handler: (e) => void (seen++, e.globalPosition >= head && void sub.stop().then(resolve)) });
  });
  return (seen * 1000) / (performance.now() - started);
}

async function rebalancePause(): Promise<{ pausesMs: number[]; unmovedBatches: number }> {
  const stores = await Promise.all([open(), open(), open(), open()]);
  const [writerStore, ...memberStores] = stores as [EventStore, EventStore, EventStore, EventStore];
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) await writerStore.appendToStream(`s-${i % STREAMS}`, [{ type: 'Tick', data: { i } }]);
  })();
  const handler: ConsumerHandler = async (e, ctx) => {
    await ctx.tx!.sql.run('UPDATE bench_counts SET n = n + 1 WHERE stream_id = ?', [e.streamId]);
  };
  const opts = { group: 'bench-rebalance', partitions: 8, handler, pollIntervalMs: 20, rebalanceIntervalMs: 100 };
  const a = await openConsumerGroup({ ...opts, store: memberStores[0]!, memberId: 'a' });
  const b = await openConsumerGroup({ ...opts, store: memberStores[1]!, memberId: 'b' });
  while (a.assigned.length + b.assigned.length < 8 || a.assigned.length !== 4) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1_000));
  const released = new Map<number, number>();
  let unmovedBatches = 0;
  let rebalancing = true;
  for (const m of [a, b]) {
    m.events.on('revoked', (r: { partition: number }) => released.set(r.partition, performance.now()));
    m.events.on('batch', () => void (rebalancing && unmovedBatches++));
  }
  const pausesMs: number[] = [];
  const c = await openConsumerGroup({ ...opts, store: memberStores[2]!, memberId: 'c' });
  c.events.on('assigned', (x: { partitions: number[] }) => {
    for (const p of x.partitions) pausesMs.push(performance.now() - (released.get(p) ?? performance.now()));
  });
  while (c.assigned.length < 2) await new Promise((r) => setTimeout(r, 5));
  rebalancing = false;
  writing = false;
  await writer;
  for (const m of [a, b, c]) await m.stop();
  for (const s of stores) await s.close();
  return { pausesMs, unmovedBatches };
}

const store = await open();
try {
  const head = await prepare(store);
  console.log(`# consumer groups, ${PG ? 'PostgreSQL' : 'SQLite'}: ${EVENTS} events, ${STREAMS} streams, 8 partitions, ${RUNS} run(s), median`);
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const sub = median(await Promise.all(Array.from({ length: RUNS }, () => subscriptionRun(store, head))));
  console.log(`plain subscribeToAll (read only)        ${Math.round(sub).toLocaleString('en')} events/s`);
  let one = 0;
  for (const members of [1, 2, 4]) {
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) rates.push(await groupRun(store, members, head, r));
    const rate = median(rates);
    if (members === 1) one = rate;
    console.log(`group, ${members} member process(es), exactly-once  ${Math.round(rate).toLocaleString('en')} events/s  (${(rate / one).toFixed(2)}x one member, ${(rate / sub).toFixed(2)}x subscription)`);
  }
  const pause = await rebalancePause();
  const sorted = [...pause.pausesMs].sort((x, y) => x - y);
  console.log(`rebalance (third member joins 2 under load): moved ${sorted.length} partitions, pause per moved partition ${sorted.map((p) => Math.round(p)).join(', ')} ms; unmoved partitions committed ${pause.unmovedBatches} batches meanwhile`);
} finally {
  await store.close();
  if (PG) {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
  rmSync(dir, { recursive: true, force: true });
}
