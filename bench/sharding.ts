/**
 * Sharding benchmark: `npm run bench:sharding [-- --quick]`.
 * 1. Routing cost per strategy (ns per route, median of 5 rounds over 1,000,000 distinct keys; "hot" reuses
 *    10,000 keys, as appends to live streams do).
 * 2. Hash balance over 1,000,000 keys on 3 shards, and how many keys move when a 4th shard is added.
 * 3. Sharded append throughput with 1 vs 3 shards (SQLite files): concurrent writers, one event per append,
 *    each writer on its own streams; a plain openSqliteEventStore beside them as the unsharded reference.
 * Prints a table and writes bench/results/sharding.md. Nothing here is asserted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStrategy, DEFAULT_SLOTS, evenOwners, type EventStore, type HashSpec, type ShardConnection, openShardedEventStore, openSqliteEventStore, planAddShard, type ShardMap } from '../src/index.js';
import { bucketOf } from '../src/support/hash.js';
import { machineInfo } from './machine.js';

const QUICK = process.argv.includes('--quick');
const KEYS = QUICK ? 200_000 : 1_000_000;
const APPENDS = QUICK ? 1_500 : 6_000;
const WRITERS = 16;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const shardIds = ['s0', 's1', 's2'];
const map = (ids: string[]): ShardMap => ({
  epoch: 1,
  shards: ids.map((id, index) => ({ id, index, connection: { kind: 'sqlite', path: `${id}.db` } })),
  strategy: { kind: 'hash', owners: evenOwners(ids) },
});

function routing(): Array<[string, number, number]> {
  const keys = Array.from({ length: KEYS }, (_, i) => `order-${i}-${(i * 2654435761) % 1_000_003}`);
  const hot = keys.slice(0, 10_000);
  const ranges = Array.from({ length: 64 }, (_, i) => ({ from: i === 0 ? null : `order-${String(i * 15_000)}`, to: i === 63 ? null : `order-${String((i + 1) * 15_000)}`, shard: shardIds[i % 3]! }));
  ranges.sort((a, b) => (a.from === null ? -1 : b.from === null ? 1 : a.from < b.from ? -1 : 1));
  for (let i = 0; i < ranges.length; i++) ranges[i]!.to = ranges[i + 1]?.from ?? null;
  const pins = new Map(keys.slice(0, 1_000).map((k, i) => [k, shardIds[i % 3]!]));
  const hash = map(shardIds).strategy as HashSpec;
  const cases: Array<[string, (k: string) => unknown, string[]]> = [
    ['bucketOf (xxh64 mod 4096), no strategy', (k) => bucketOf(k, DEFAULT_SLOTS), keys],
    ['hash slots, distinct keys', (k) => buildStrategyOnce('hash', () => buildStrategy(hash)).place(k), keys],
    ['hash slots, 10,000 hot keys', (k) => buildStrategyOnce('hash-hot', () => buildStrategy(hash)).place(k), hot],
    ['range (64 ranges, binary search)', (k) => buildStrategyOnce('range', () => buildStrategy({ kind: 'range', ranges })).place(k), keys],
    ['directory (1,000 pins, cached)', (k) => buildStrategyOnce('dir', () => buildStrategy({ kind: 'directory', defaultShard: 's0' }, pins)).place(k), keys],
    ['composite (pins over hash)', (k) => buildStrategyOnce('comp', () => buildStrategy({ kind: 'composite', fallback: hash }, pins)).place(k), keys],
  ];
  const out: Array<[string, number, number]> = [];
  for (const [name, fn, ks] of cases) {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < 5; r++) {
      let sink = 0;
      const n = Math.max(ks.length, KEYS);
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) sink += fn(ks[i % ks.length]!) === undefined ? 1 : 0;
      wall.push(Number(process.hrtime.bigint() - t) / n + sink * 0);
      const used = process.cpuUsage(c);
      cpu.push(((used.user + used.system) * 1000) / n);
    }
    out.push([name, median(wall), median(cpu)]);
  }
  return out;
}

const built = new Map<string, ReturnType<typeof buildStrategy>>();
function buildStrategyOnce(name: string, make: () => ReturnType<typeof buildStrategy>): ReturnType<typeof buildStrategy> {
  let s = built.get(name);
  if (s === undefined) built.set(name, (s = make()));
  return s;
}

function balanceAndMovement(): { perShard: Array<[string, number, number]>; maxDeviationPct: number; chi2: number; dof: number; movedPct: number; expectedMovedPct: number; foreignMoves: number } {
  const before = buildStrategy(map(shardIds).strategy);
  const nextMap = planAddShard(map(shardIds), { id: 's3', index: 3, connection: { kind: 'sqlite', path: 's3.db' } });
  const after = buildStrategy(nextMap.strategy);
  const counts = new Map<string, number>();
  const slots = new Array<number>(DEFAULT_SLOTS).fill(0);
  let moved = 0;
  let foreign = 0;
  for (let i = 0; i < KEYS; i++) {
    const k = `order-${i}`;
    const a = before.place(k);
    const b = after.place(k);
    counts.set(a.shard, (counts.get(a.shard) ?? 0) + 1);
    slots[a.slot!]!++;
    if (a.shard !== b.shard) {
      moved++;
      if (b.shard !== 's3') foreign++;
    }
  }
  const owners = (map(shardIds).strategy as { owners: string[] }).owners;
  const perShard = shardIds.map((s): [string, number, number] => [s, counts.get(s) ?? 0, (KEYS * owners.filter((o) => o === s).length) / DEFAULT_SLOTS]);
  const maxDeviationPct = Math.max(...perShard.map(([, got, exp]) => (Math.abs(got - exp) / exp) * 100));
  const e = KEYS / DEFAULT_SLOTS;
  const chi2 = slots.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
  const movedSlots = (nextMap.strategy as { owners: string[] }).owners.filter((o) => o === 's3').length;
  return { perShard, maxDeviationPct, chi2, dof: DEFAULT_SLOTS - 1, movedPct: (moved / KEYS) * 100, expectedMovedPct: (movedSlots / DEFAULT_SLOTS) * 100, foreignMoves: foreign };
}

async function appendRate(store: EventStore, tag: string): Promise<number> {
  const perWriter = Math.ceil(APPENDS / WRITERS);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) await store.appendToStream(`${tag}-w${w}-s${i % 50}`, [{ type: 'Tick', data: { w, i, pad: 'x'.repeat(64) } }]);
    }),
  );
  return (perWriter * WRITERS) / ((performance.now() - started) / 1000);
}

type Layout = { name: string; open: (rep: number) => Promise<EventStore> };

/** Median appends/s of each layout, runs interleaved (order alternated per repetition). */
async function throughput(layouts: Layout[]): Promise<Array<[string, number]>> {
  const results = layouts.map(() => [] as number[]);
  for (let rep = 0; rep < 3; rep++) {
    const order = layouts.map((_, i) => i);
    if (rep % 2 === 1) order.reverse();
    for (const i of order) {
      const store = await layouts[i]!.open(rep);
      try {
        results[i]!.push(await appendRate(store, `r${rep}`));
      } finally {
        await store.close();
      }
    }
  }
  return layouts.map((l, i) => [l.name, median(results[i]!)]);
}

function sharded(dir: string, tag: string, connections: (rep: number) => ShardConnection[]): (rep: number) => Promise<EventStore> {
  return (rep) =>
    openShardedEventStore({
      catalog: { kind: 'sqlite', path: join(dir, `catalog-${tag}-${rep}.db`) },
      shards: connections(rep).map((connection, i) => ({ id: `s${i}`, connection })),
    });
}

async function sqliteLayouts(dir: string, synchronous: 'FULL' | 'NORMAL'): Promise<Layout[]> {
  const file = (tag: string, rep: number, i: number) => join(dir, `${tag}-${synchronous}-${rep}-${i}.db`);
  return [
    { name: `openSqliteEventStore, unsharded (${synchronous})`, open: (rep) => openSqliteEventStore({ path: file('plain', rep, 0), synchronous }) },
    { name: `sharded, 1 SQLite shard (${synchronous})`, open: sharded(dir, `one-${synchronous}`, (rep) => [{ kind: 'sqlite', path: file('one', rep, 0), synchronous }]) },
    { name: `sharded, 3 SQLite shards (${synchronous})`, open: sharded(dir, `three-${synchronous}`, (rep) => [0, 1, 2].map((i) => ({ kind: 'sqlite' as const, path: file('three', rep, i), synchronous }))) },
  ];
}

async function pgLayouts(dir: string): Promise<{ layouts: Layout[]; stop: () => Promise<void> }> {
  const { startPgCluster, destroyAllPgClusters } = await import('../test/support/pg-cluster.js');
  const clusters = await Promise.all([startPgCluster(), startPgCluster(), startPgCluster()]);
  const conn = (i: number, rep: number, tag: string): ShardConnection => ({ kind: 'postgres', connectionString: clusters[i]!.url, schema: `bench_${tag}_${rep}`, maxConnections: 8 });
  return {
    layouts: [
      { name: 'sharded, 1 PostgreSQL cluster', open: sharded(dir, 'pg1', (rep) => [conn(0, rep, 'one')]) },
      { name: 'sharded, 3 PostgreSQL clusters', open: sharded(dir, 'pg3', (rep) => [0, 1, 2].map((i) => conn(i, rep, 'three'))) },
    ],
    stop: destroyAllPgClusters,
  };
}

const route = routing();
const bal = balanceAndMovement();
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-shard-'));
const tput: Array<[string, number]> = [];
try {
  tput.push(...(await throughput(await sqliteLayouts(dir, 'FULL'))), ...(await throughput(await sqliteLayouts(dir, 'NORMAL'))));
  if (!process.argv.includes('--no-pg')) {
    const pg = await pgLayouts(dir);
    try {
      tput.push(...(await throughput(pg.layouts)));
    } finally {
      await pg.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const rate = (name: string): number => tput.find(([n]) => n.startsWith(name))?.[1] ?? Number.NaN;
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `# Sharding benchmark${QUICK ? ' (--quick)' : ''}`,
  '',
  `Machine: ${machineLine()}`,
  '',
  `## Routing (ns per route, median of 5 rounds, ${fmt(KEYS)} keys; target for hash slots: < 200 ns; machine load average (1, 5, 15 min) ${loadavg().map((l) => l.toFixed(1)).join(' / ')})`,
  '',
  '| strategy | ns/op (wall) | ns/op (CPU time) |',
  '|---|---:|---:|',
  ...route.map(([name, ns, cpu]) => `| ${name} | ${fmt(ns, 1)} | ${fmt(cpu, 1)} |`),
  '',
  `## Hash balance over ${fmt(KEYS)} keys, 3 shards, ${DEFAULT_SLOTS} slots`,
  '',
  '| shard | keys | expected (slot share) |',
  '|---|---:|---:|',
  ...bal.perShard.map(([s, got, exp]) => `| ${s} | ${fmt(got)} | ${fmt(exp)} |`),
  '',
  `Largest deviation from the expected share: ${fmt(bal.maxDeviationPct, 3)} %. Slot chi-square: ${fmt(bal.chi2, 1)} for ${bal.dof} degrees of freedom (mean ${bal.dof}, sd ${fmt(Math.sqrt(2 * bal.dof), 1)}).`,
  '',
  `Adding a 4th shard: ${fmt(bal.movedPct, 3)} % of the keys moved (the moved slots hold ${fmt(bal.expectedMovedPct, 3)} % of the slots; 1/(n+1) = 25 %); keys moved anywhere but to the new shard: ${bal.foreignMoves}.`,
  '',
  `## Sharded append throughput (${WRITERS} concurrent writers in one process, ${fmt(APPENDS)} single-event appends to ${WRITERS * 50} streams, median of 3 interleaved runs)`,
  '',
  '| store | appends/s |',
  '|---|---:|',
  ...tput.map(([name, rate]) => `| ${name} | ${fmt(rate)} |`),
  '',
  `3 shards vs 1 shard: SQLite FULL ${fmt(rate('sharded, 3 SQLite shards (FULL') / rate('sharded, 1 SQLite shard (FULL'), 2)}x, SQLite NORMAL ${fmt(rate('sharded, 3 SQLite shards (NORMAL') / rate('sharded, 1 SQLite shard (NORMAL'), 2)}x, PostgreSQL ${fmt(rate('sharded, 3 PostgreSQL') / rate('sharded, 1 PostgreSQL'), 2)}x.`,
  '',
];
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
const out = new URL('./results/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, QUICK ? 'sharding-quick.md' : 'sharding.md'), text);

function machineLine(): string {
  const m = machineInfo(null);
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, SQLite ${m.sqlite}`;
}
