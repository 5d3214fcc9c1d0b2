/**
 * Child process for workload (f): seeds a store, or streams its whole log and reports peak RSS, in a
 * process of its own so the figure is not polluted by the harness. Prints one JSON line.
 *
 *   node --import tsx bench/stream-all-child.ts <seed|stream> <tessera|raw> <sqlite|postgres> <location> <count>
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import Cursor from 'pg-cursor';
// The package's eventstore entry (tessera/eventstore), as an app that only streams events imports it.
import { type EventStore, openSqliteEventStore } from '../src/eventstore/index.js';
import { EVENT_TYPE, eventData } from './payload.js';
import { openRawSqlite } from './targets/sqlite.js';
import { RAW_PG_SCHEMA, tesseraPgOpener } from './targets/pg.js';

const [mode, kind, engine, location, countText, schema] = process.argv.slice(2);
const count = Number(countText);
const SEED_BATCH = 10_000;
const PAGE = 1_000;

async function openTessera(): Promise<EventStore> {
  if (engine === 'sqlite') return openSqliteEventStore({ path: location!, synchronous: 'NORMAL' });
  const open = tesseraPgOpener();
  if (open === null) throw new Error('openPostgresEventStore is not exported');
  return open({ connectionString: location!, ...(schema ? { schema } : {}) });
}

async function seed(): Promise<void> {
  if (kind === 'tessera') {
    const store = await openTessera();
    for (let done = 0, k = 0; done < count; k++) {
      const n = Math.min(SEED_BATCH, count - done);
      await store.appendToStream(`s-${k}`, Array.from({ length: n }, (_, i) => ({ type: EVENT_TYPE, data: eventData(i) })));
      done += n;
    }
    await store.close();
  } else if (engine === 'sqlite') {
    const db = openRawSqlite(location!, 'NORMAL');
    db.prepare(`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?)
      INSERT INTO events (stream_id, stream_version, type, data) SELECT 's-' || (i / ${SEED_BATCH}), i % ${SEED_BATCH} + 1, ?, ? FROM g`).run(count, EVENT_TYPE, JSON.stringify(eventData(1)));
    db.close();
  } else {
    const client = new pg.Client({ connectionString: location! });
    await client.connect();
    await client.query(RAW_PG_SCHEMA);
    await client.query(
      `INSERT INTO events (stream_id, stream_version, type, data)
       SELECT 's-' || (i / ${SEED_BATCH}), i % ${SEED_BATCH} + 1, $2, $3::jsonb FROM generate_series(0, $1::int - 1) AS i`,
      [count, EVENT_TYPE, JSON.stringify(eventData(1))],
    );
    await client.end();
  }
  console.log(JSON.stringify({ seeded: count }));
}

/** Reads every event once, keeping nothing; returns how many were seen. */
async function streamEvents(): Promise<number> {
  let seen = 0;
  if (kind === 'tessera') {
    const store = await openTessera();
    for await (const e of store.streamAll()) if (e.globalPosition > 0n) seen++;
    await store.close();
  } else if (engine === 'sqlite') {
    const db = openRawSqlite(location!, 'NORMAL');
    const rows = db.prepare('SELECT global_position, stream_id, stream_version, type, data FROM events ORDER BY global_position').iterate();
    for (const r of rows as Iterable<{ data: string }>) if (JSON.parse(r.data) !== null) seen++;
    db.close();
  } else {
    const client = new pg.Client({ connectionString: location! });
    await client.connect();
    const cursor = client.query(new Cursor('SELECT global_position, stream_id, stream_version, type, data FROM events ORDER BY global_position'));
    for (let rows = await cursor.read(PAGE); rows.length > 0; rows = await cursor.read(PAGE)) seen += rows.length;
    await cursor.close();
    await client.end();
  }
  return seen;
}

async function stream(): Promise<void> {
  const baselineRssKb = process.resourceUsage().maxRSS;
  const started = performance.now();
  const seen = await streamEvents();
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ events: seen, seconds, baselineRssKb, peakRssKb: process.resourceUsage().maxRSS }));
}

await (mode === 'seed' ? seed() : stream());
