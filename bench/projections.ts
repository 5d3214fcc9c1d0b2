/**
 * Projection catch-up benchmark: `npx tsx bench/projections.ts [--events N] [--runs R]`.
 * On one SQLite file (synchronous=FULL), the same read model — a running total per cart, one upsert per
 * event — is built twice from a pre-written log:
 *   - Tessera: `startProjector` (batches, checkpoint in each batch's transaction, lease guard);
 *   - contract floor: no framework at all, but what the projection API promises `apply`: every event as a
 *     full `RecordedEvent` (all nine columns read, data and metadata decoded, BigInt positions, a Date) and
 *     awaited one at a time, with the checkpoint in the batch's transaction. Any projector that keeps the
 *     API pays this; the gap between it and raw is the price of the contract, not of Tessera.
 *   - raw: the physical limit, a loop that reads 500 events with a prepared statement (only the three
 *     columns this read model needs), then upserts them and moves a checkpoint in one better-sqlite3
 *     transaction.
 * Prints events/s (median and best of R runs) and the ratio to raw. Never asserted anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { type EventStore, openSqliteEventStore, projection, type RecordedEvent, startProjector } from '../src/index.js';

/** One row of the table. */
export interface ProjectionBenchRow {
  path: string;
  events: number;
  medianEventsPerSec: number;
  bestEventsPerSec: number;
  /** Process CPU time (user + system) per event, median: steadier than events/s on a shared machine. */
  medianCpuMicrosPerEvent: number;
}

/** Wall and CPU milliseconds of one run. */
interface Timing {
  ms: number;
  cpuMs: number;
}

function startTimer(): { stop(): Timing } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return {
    stop: () => {
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1_000 };
    },
  };
}

const BATCH = 500;
const CARTS = 200;

const cartTotals = projection({
  name: 'bench_cart_totals',
  version: 1,
  tables: ['bench_cart_totals'],
  handles: ['ItemAdded'],
  setup: (db, t) => db.exec(`CREATE TABLE IF NOT EXISTS ${t.bench_cart_totals} (cart_id TEXT PRIMARY KEY, total INTEGER NOT NULL)`),
  apply: async (e, db, t) => {
    const d = e.data as { qty: number; price: number };
    await db.run(upsertSql(t.bench_cart_totals), [e.streamId, d.qty * d.price]);
  },
});

// Built once per physical table (live or rebuild shadow), as a projection should: not per event.
const upserts = new Map<string, string>();
function upsertSql(table: string): string {
  let sql = upserts.get(table);
  if (sql === undefined) {
    sql = `INSERT INTO ${table} (cart_id, total) VALUES (?, ?) ON CONFLICT (cart_id) DO UPDATE SET total = ${table}.total + excluded.total`;
    upserts.set(table, sql);
  }
  return sql;
}

async function writeLog(store: EventStore, events: number): Promise<bigint> {
  let last = 0n;
  for (let written = 0; written < events; written += BATCH) {
    const n = Math.min(BATCH, events - written);
    // Spread over carts, appended in batches so setting up stays fast; the projection sees single events.
    const cart = `cart-${(written / BATCH) % CARTS}`;
    const r = await store.appendToStream(cart, Array.from({ length: n }, (_, i) => ({ type: 'ItemAdded', data: { sku: `S${i % 7}`, qty: 1 + (i % 3), price: 250 } })));
    last = r.lastGlobalPosition;
  }
  return last;
}

async function tesseraRun(path: string, last: bigint): Promise<Timing> {
  const store = await openSqliteEventStore({ path });
  const timer = startTimer();
  const projector = await startProjector({ store, projections: [cartTotals], batchSize: BATCH, pollIntervalMs: 5 });
  await projector.waitFor('bench_cart_totals', last, { timeoutMs: 600_000 });
  const ms = timer.stop();
  await projector.stop();
  await store.close();
  checkTotals(path, 'bench_cart_totals', last);
  return ms;
}

function rawRun(path: string, last: bigint): Timing {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS raw_cart_totals (cart_id TEXT PRIMARY KEY, total INTEGER NOT NULL);
           CREATE TABLE IF NOT EXISTS raw_checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
  const read = db.prepare('SELECT global_position, stream_id, data FROM tessera_events WHERE global_position > ? ORDER BY global_position LIMIT ?').raw(true);
  const upsert = db.prepare('INSERT INTO raw_cart_totals (cart_id, total) VALUES (?, ?) ON CONFLICT (cart_id) DO UPDATE SET total = total + excluded.total');
  const checkpoint = db.prepare('INSERT INTO raw_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position');
  const applyPage = db.transaction((rows: Array<[number, string, string]>) => {
    for (const [, cart, data] of rows) {
      const d = JSON.parse(data) as { qty: number; price: number };
      upsert.run(cart, d.qty * d.price);
    }
    checkpoint.run('raw', rows[rows.length - 1]![0]);
  });
  const timer = startTimer();
  let position = 0;
  while (position < Number(last)) {
    const rows = read.all(position, BATCH) as Array<[number, string, string]>;
    if (rows.length === 0) break;
    applyPage(rows);
    position = rows[rows.length - 1]![0];
  }
  const ms = timer.stop();
  db.close();
  checkTotals(path, 'raw_cart_totals', last);
  return ms;
}

type FullRow = [number, string, string, number, string, string, string | null, number, number];

async function contractRun(path: string, last: bigint): Promise<Timing> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS floor_cart_totals (cart_id TEXT PRIMARY KEY, total INTEGER NOT NULL);
           CREATE TABLE IF NOT EXISTS floor_checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
  const read = db
    .prepare(`SELECT global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at
              FROM tessera_events WHERE global_position > ? AND event_type IN (?) ORDER BY global_position LIMIT ?`)
    .raw(true);
  const statements = new Map<string, Database.Statement>();
  // The port's shape: an async run whose statement is looked up by its SQL, as a driver caches them.
  const tx = {
    run: async (sql: string, params: unknown[]): Promise<{ changes: number }> => {
      let st = statements.get(sql);
      if (st === undefined) statements.set(sql, (st = db.prepare(sql)));
      return { changes: st.run(...params).changes };
    },
  };
  const apply = async (e: RecordedEvent): Promise<void> => {
    const d = e.data as { qty: number; price: number };
    await tx.run(upsertSql('floor_cart_totals'), [e.streamId, d.qty * d.price]);
  };
  const timer = startTimer();
  let position = 0;
  while (position < Number(last)) {
    const rows = read.all(position, 'ItemAdded', BATCH) as FullRow[];
    if (rows.length === 0) break;
    const events = rows.map((r): RecordedEvent => {
      const e: RecordedEvent = {
        id: r[1], streamId: r[2], streamVersion: BigInt(r[3]), globalPosition: BigInt(r[0]), type: r[4],
        data: JSON.parse(r[5]) as unknown, recordedAt: new Date(r[8]), schemaVersion: r[7],
      };
      if (r[6] !== null) e.metadata = JSON.parse(r[6]) as Record<string, unknown>;
      return e;
    });
    db.exec('BEGIN IMMEDIATE');
    for (const e of events) await apply(e);
    await tx.run('INSERT INTO floor_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position', ['floor', rows[rows.length - 1]![0]]);
    db.exec('COMMIT');
    position = rows[rows.length - 1]![0];
  }
  const ms = timer.stop();
  db.close();
  checkTotals(path, 'floor_cart_totals', last);
  return ms;
}

// A benchmark that projects the wrong thing measures nothing: both read models must equal the log's fold.
function checkTotals(path: string, table: string, last: bigint): void {
  const db = new Database(path, { readonly: true });
  const expected = db.prepare("SELECT sum(json_extract(data, '$.qty') * json_extract(data, '$.price')) AS s FROM tessera_events WHERE global_position <= ?").get(last) as { s: number };
  const got = db.prepare(`SELECT sum(total) AS s FROM ${table}`).get() as { s: number };
  db.close();
  if (got.s !== expected.s) throw new Error(`${table} holds ${got.s}, but the log folds to ${expected.s}`);
}

function summarize(path: string, events: number, times: Timing[]): ProjectionBenchRow {
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rates = times.map((t) => (events / t.ms) * 1000);
  return {
    path,
    events,
    medianEventsPerSec: Math.round(median(rates)),
    bestEventsPerSec: Math.round(Math.max(...rates)),
    medianCpuMicrosPerEvent: Number(((median(times.map((t) => t.cpuMs)) * 1000) / events).toFixed(2)),
  };
}

/**
 * Runs the benchmark and returns its rows; each run projects a fresh copy of the same log from zero.
 *
 * @example
 * ```ts
 * const [tessera, , raw] = await runProjectionBench({ events: 200_000, runs: 3 });
 * console.log(tessera.medianEventsPerSec / raw.medianEventsPerSec);
 * ```
 */
export async function runProjectionBench(options: { events?: number; runs?: number; print?: boolean } = {}): Promise<ProjectionBenchRow[]> {
  const events = options.events ?? 200_000;
  const runs = options.runs ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-proj-'));
  try {
    const paths = [
      { name: 'Tessera projector (SQLite)', run: tesseraRun, times: [] as Timing[] },
      { name: 'contract floor: full RecordedEvents, awaited apply, no framework', run: contractRun, times: [] as Timing[] },
      { name: 'raw read-then-upsert loop (better-sqlite3)', run: async (path: string, last: bigint) => rawRun(path, last), times: [] as Timing[] },
    ];
    for (let run = 0; run < runs; run++) {
      const path = join(dir, `log-${run}.db`);
      const store = await openSqliteEventStore({ path });
      const last = await writeLog(store, events);
      await store.close();
      // Rotate the order so no path always gets the warmer page cache or the emptier WAL.
      for (let i = 0; i < paths.length; i++) {
        const p = paths[(run + i) % paths.length]!;
        p.times.push(await p.run(path, last));
      }
    }
    const rows = paths.map((p) => summarize(p.name, events, p.times));
    if (options.print ?? true) printTable(rows);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: ProjectionBenchRow[]): void {
  const raw = rows[rows.length - 1]!;
  console.log(`\nProjection catch-up, ${rows[0]!.events} events, batches of ${BATCH}, SQLite synchronous=FULL`);
  console.log('| path | median events/s | best events/s | × raw | CPU µs/event | × raw in CPU |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const wall = (r.medianEventsPerSec / raw.medianEventsPerSec).toFixed(2);
    const cpu = (raw.medianCpuMicrosPerEvent / r.medianCpuMicrosPerEvent).toFixed(2);
    console.log(`| ${r.path} | ${r.medianEventsPerSec} | ${r.bestEventsPerSec} | ${wall} | ${r.medianCpuMicrosPerEvent} | ${cpu} |`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const events = arg('--events');
  const runs = arg('--runs');
  await runProjectionBench({ ...(events ? { events } : {}), ...(runs ? { runs } : {}) });
}
