/**
 * Projection catch-up benchmark: `npx tsx bench/projections.ts [--events N] [--pg-events N] [--runs R] [--no-write]`.
 * On one SQLite file (synchronous=FULL), the same read model — a running total per cart, one upsert per
 * event — is built three times from a pre-written log:
 *   - Tessera: `startProjector` (batches, checkpoint in each batch's transaction, lease guard);
 *   - contract floor: no framework at all, but what the projection API promises `apply`: every event as a
 *     full `RecordedEvent` (read as the store reads it: one JSON row text per event, data and metadata
 *     decoded, BigInt positions, a Date), each awaited through an async `run` with a statement cache, and
 *     the checkpoint in the batch's transaction. Any projector that keeps the API pays this; the gap between
 *     it and raw is the price of the contract, the gap between Tessera and it the price of the framework;
 *   - raw: the physical limit, a loop that reads 500 events with a prepared statement (only the three
 *     columns this read model needs), then upserts them and moves a checkpoint in one better-sqlite3
 *     transaction.
 * Then the PostgreSQL rows (bench/projections-pg.ts; `--pg-events 0` leaves them out). Prints events/s
 * (median and best of R runs), and ratios to raw as medians of per-run ratios; writes the rows to
 * bench/results/projections.json unless --no-write. Never asserted anywhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { openSqliteEventStore, type RecordedEvent, startProjector } from '../src/index.js';
import { BATCH, cartTotals, caughtUp, printTable, type ProjectionBenchRow, startTimer, summarize, type Timing, upsertSql, writeLog } from './projections-common.js';
import { runPgBench } from './projections-pg.js';

export type { ProjectionBenchRow } from './projections-common.js';

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

// One JSON text per event, as the store's SQLite reads build it (fewer values cross into JavaScript).
const JSON_ROW = `'[' || global_position || ',' || json_quote(event_id) || ',' || json_quote(stream_id) || ',' || stream_version || ',' ||
  json_quote(event_type) || ',' || data || ',' || coalesce(metadata, 'null') || ',' || schema_version || ',' || recorded_at || ']'`;
type JsonRow = [number, string, string, number, string, unknown, Record<string, unknown> | null, number, number];

async function contractRun(path: string, last: bigint): Promise<Timing> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS floor_cart_totals (cart_id TEXT PRIMARY KEY, total INTEGER NOT NULL);
           CREATE TABLE IF NOT EXISTS floor_checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL)`);
  const read = db.prepare(`SELECT ${JSON_ROW} FROM tessera_events WHERE global_position > ? AND event_type IN (?) ORDER BY global_position LIMIT ?`).pluck(true);
  const [begin, commit] = [db.prepare('BEGIN IMMEDIATE'), db.prepare('COMMIT')];
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
  let position = 0n;
  while (position < last) {
    const events = (read.all(position, 'ItemAdded', BATCH) as string[]).map((text): RecordedEvent => {
      const r = JSON.parse(text) as JsonRow;
      const e: RecordedEvent = {
        id: r[1], streamId: r[2], streamVersion: BigInt(r[3]), globalPosition: BigInt(r[0]), type: r[4], data: r[5],
        recordedAt: new Date(r[8]), schemaVersion: r[7],
      };
      if (r[6] !== null) e.metadata = r[6];
      return e;
    });
    if (events.length === 0) break;
    position = events[events.length - 1]!.globalPosition;
    begin.run();
    for (const e of events) await apply(e);
    await tx.run('INSERT INTO floor_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position', ['floor', position]);
    commit.run();
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

/**
 * Runs the benchmark and returns its rows (SQLite, then PostgreSQL unless `pgEvents` is 0); each run
 * projects a fresh copy of the same log from zero.
 *
 * @example
 * ```ts
 * const rows = await runProjectionBench({ events: 200_000, pgEvents: 20_000, runs: 5 });
 * console.table(rows);
 * ```
 */
export async function runProjectionBench(options: { events?: number; pgEvents?: number; runs?: number; print?: boolean } = {}): Promise<ProjectionBenchRow[]> {
  const events = options.events ?? 200_000;
  const pgEvents = options.pgEvents ?? 20_000;
  const runs = options.runs ?? 5;
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
    rows = summarize(events, paths);
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const events = arg('--events');
  const pgEvents = arg('--pg-events');
  const runs = arg('--runs');
  const options = { ...(events ? { events } : {}), ...(pgEvents !== undefined ? { pgEvents } : {}), ...(runs ? { runs } : {}) };
  const loadBefore = loadavg()[0]!;
  const rows = await runProjectionBench(options);
  if (!process.argv.includes('--no-write')) {
    // The rows as data; bench/results/projections.md holds the tables with their analysis.
    const out = { when: new Date().toISOString(), node: process.version, loadAverage1m: [loadBefore, loadavg()[0]!], options, rows };
    writeFileSync(new URL('./results/projections.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
  }
}
