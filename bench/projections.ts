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
 * On PostgreSQL (the shared server, or TESSERA_BENCH_PG) the same two ends, on a smaller log (every apply
 * is a round trip): Tessera, and a raw pg loop that reads below the snapshot's xmin horizon as the store
 * does (gap-safe), then upserts each event with a prepared statement and moves its checkpoint in one
 * transaction. `--pg-events 0` leaves PostgreSQL out.
 * Prints events/s (median and best of R runs) and the ratio to raw. Never asserted anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type EventStore, openPostgresEventStore, openSqliteEventStore, type Projector, projection, type RecordedEvent, startProjector } from '../src/index.js';
import { dropBenchDatabase, freshDatabase, pgVersion } from './targets/pg-admin.js';

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
  setup: (db, t) => db.exec(`CREATE TABLE IF NOT EXISTS ${t.bench_cart_totals} (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`),
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

/**
 * Resolves when the batch reaching `last` has committed: the projector's own event, so the measurement
 * neither polls the checkpoint (load on the same database) nor waits up to a poll interval past the end.
 */
function caughtUp(projector: Projector, last: bigint): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not caught up with ${last} after 10 minutes`)), 600_000);
    projector.events.on('batch', (b: { position: bigint }) => {
      if (b.position < last) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

async function tesseraRun(path: string, last: bigint): Promise<Timing> {
  const store = await openSqliteEventStore({ path });
  const timer = startTimer();
  const projector = await startProjector({ store, projections: [cartTotals], batchSize: BATCH, pollIntervalMs: 5 });
  await caughtUp(projector, last);
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


async function tesseraPgRun(db: PgLog): Promise<Timing> {
  const store = await openPostgresEventStore({ connectionString: db.connectionString, schema: db.schema });
  const timer = startTimer();
  const projector = await startProjector({ store, projections: [cartTotals], batchSize: BATCH, pollIntervalMs: 5 });
  await caughtUp(projector, db.last);
  const ms = timer.stop();
  await projector.stop();
  await store.close();
  await checkPgTotals(db, 'bench_cart_totals');
  return ms;
}

async function rawPgRun(db: PgLog): Promise<Timing> {
  const client = new pg.Client({ connectionString: db.connectionString });
  await client.connect();
  try {
    await client.query(`CREATE TABLE raw_cart_totals (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL);
                        CREATE TABLE raw_checkpoint (name TEXT PRIMARY KEY, position BIGINT NOT NULL)`);
    const timer = startTimer();
    let position = '0';
    while (BigInt(position) < db.last) {
      const { rows } = await client.query<[string, string, { qty: number; price: number }]>({
        name: 'raw_read',
        // Gap-safe as the store's readAll: only positions below the snapshot's xmin horizon are final.
        text: `SELECT global_position, stream_id, data FROM events
               WHERE global_position > $1 AND global_position < ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + (SELECT xid_offset FROM log_clock)) << 16)
               ORDER BY global_position LIMIT $2`,
        values: [position, BATCH],
        rowMode: 'array',
      });
      if (rows.length === 0) {
        await new Promise((r) => setTimeout(r, 5)); // a transaction elsewhere on the server holds the horizon back
        continue;
      }
      await client.query('BEGIN');
      for (const [, cart, d] of rows) {
        await client.query({ name: 'raw_upsert', text: 'INSERT INTO raw_cart_totals (cart_id, total) VALUES ($1, $2) ON CONFLICT (cart_id) DO UPDATE SET total = raw_cart_totals.total + excluded.total', values: [cart, d.qty * d.price] });
      }
      position = rows[rows.length - 1]![0];
      await client.query({ name: 'raw_checkpoint', text: 'INSERT INTO raw_checkpoint (name, position) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET position = excluded.position', values: ['raw', position] });
      await client.query('COMMIT');
    }
    const ms = timer.stop();
    await checkPgTotals(db, 'raw_cart_totals');
    return ms;
  } finally {
    await client.end();
  }
}

interface PgLog {
  connectionString: string;
  schema: string;
  last: bigint;
  drop(): Promise<void>;
}

async function checkPgTotals(db: PgLog, table: string): Promise<void> {
  const client = new pg.Client({ connectionString: db.connectionString });
  await client.connect();
  try {
    const expected = await client.query<{ s: string }>("SELECT sum((data->>'qty')::bigint * (data->>'price')::bigint)::text AS s FROM events");
    const got = await client.query<{ s: string }>(`SELECT sum(total)::text AS s FROM ${table}`);
    if (got.rows[0]!.s !== expected.rows[0]!.s) throw new Error(`${table} holds ${got.rows[0]!.s}, but the log folds to ${expected.rows[0]!.s}`);
  } finally {
    await client.end();
  }
}

/** The PostgreSQL rows: each run writes a fresh log into its own schema, and both paths project it from zero. */
async function runPgBench(events: number, runs: number): Promise<ProjectionBenchRow[] | string> {
  const version = await pgVersion();
  if (version === null) return 'PostgreSQL unreachable: rows left out';
  const paths = [
    { name: `Tessera projector (PostgreSQL ${version})`, run: tesseraPgRun, times: [] as Timing[] },
    { name: 'raw gap-safe read-then-upsert loop (pg)', run: rawPgRun, times: [] as Timing[] },
  ];
  try {
    for (let run = 0; run < runs; run++) {
      const fresh = await freshDatabase('proj');
      const store = await openPostgresEventStore({ connectionString: fresh.connectionString, schema: fresh.schema });
      const last = await writeLog(store, events);
      await store.close();
      const log = { ...fresh, last };
      try {
        for (let i = 0; i < paths.length; i++) {
          const p = paths[(run + i) % paths.length]!;
          p.times.push(await p.run(log));
        }
      } finally {
        await fresh.drop();
      }
    }
  } finally {
    await dropBenchDatabase();
  }
  return paths.map((p) => summarize(p.name, events, p.times));
}

/**
 * Runs the benchmark and returns its rows (SQLite, then PostgreSQL unless `pgEvents` is 0); each run
 * projects a fresh copy of the same log from zero.
 *
 * @example
 * ```ts
 * const rows = await runProjectionBench({ events: 200_000, pgEvents: 20_000, runs: 3 });
 * console.table(rows);
 * ```
 */
export async function runProjectionBench(options: { events?: number; pgEvents?: number; runs?: number; print?: boolean } = {}): Promise<ProjectionBenchRow[]> {
  const events = options.events ?? 200_000;
  const pgEvents = options.pgEvents ?? 20_000;
  const runs = options.runs ?? 3;
  const print = options.print ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-proj-'));
  let rows: ProjectionBenchRow[];
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
    rows = paths.map((p) => summarize(p.name, events, p.times));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (print) printTable(rows, `Projection catch-up, ${events} events, batches of ${BATCH}, SQLite synchronous=FULL`, true);
  if (pgEvents > 0) {
    const pgRows = await runPgBench(pgEvents, runs);
    if (typeof pgRows === 'string') {
      if (print) console.log(`\n${pgRows}`);
    } else {
      // Client CPU leaves out the server's work, so only the events/s ratio means something here.
      if (print) printTable(pgRows, `Projection catch-up on PostgreSQL, ${pgEvents} events, batches of ${BATCH}`, false);
      rows.push(...pgRows);
    }
  }
  return rows;
}

function printTable(rows: ProjectionBenchRow[], title: string, cpu: boolean): void {
  const raw = rows[rows.length - 1]!;
  console.log(`\n${title}`);
  console.log(`| path | median events/s | best events/s | × raw |${cpu ? ' CPU µs/event | × raw in CPU |' : ''}`);
  console.log(`|---|---:|---:|---:|${cpu ? '---:|---:|' : ''}`);
  for (const r of rows) {
    const wall = (r.medianEventsPerSec / raw.medianEventsPerSec).toFixed(2);
    const cpuCells = cpu ? ` ${r.medianCpuMicrosPerEvent} | ${(raw.medianCpuMicrosPerEvent / r.medianCpuMicrosPerEvent).toFixed(2)} |` : '';
    console.log(`| ${r.path} | ${r.medianEventsPerSec} | ${r.bestEventsPerSec} | ${wall} |${cpuCells}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const events = arg('--events');
  const pgEvents = arg('--pg-events');
  const runs = arg('--runs');
  await runProjectionBench({ ...(events ? { events } : {}), ...(pgEvents !== undefined ? { pgEvents } : {}), ...(runs ? { runs } : {}) });
}
