/**
 * The PostgreSQL rows of the projection catch-up benchmark (bench/projections.ts): on the shared server
 * (or TESSERA_BENCH_PG), Tessera's projector against a raw pg loop that reads below the snapshot's xmin
 * horizon as the store does (gap-safe), upserts each event with a prepared statement and moves its
 * checkpoint in the same transaction. Every apply is a round trip, so the log is smaller than SQLite's.
 */
import pg from 'pg';
import { openPostgresEventStore, startProjector } from '../src/index.js';
import { BATCH, cartTotals, caughtUp, type ProjectionBenchRow, startTimer, summarize, type Timing, writeLog } from './projections-common.js';
import { dropBenchDatabase, freshDatabase, pgVersion } from './targets/pg-admin.js';

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
export async function runPgBench(events: number, runs: number): Promise<ProjectionBenchRow[] | string> {
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
  return summarize(events, paths);
}
