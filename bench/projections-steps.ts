/**
 * Where a projection catch-up's time goes on SQLite, one step at a time from the raw loop to Tessera's
 * projector: `npx tsx bench/projections-steps.ts [events] [rounds] [step prefixes, e.g. R0,R5]`.
 *   R0 raw: three columns, JSON.parse of data, prepared upsert, checkpoint, better-sqlite3 transaction;
 *   R1 + full events: every event read as the store reads it (one JSON row text) into a `RecordedEvent`;
 *   R2 + async apply: each event through an `async apply` awaiting an async `run`, as users write it;
 *   R3 + driver transaction: the SQL port's transaction (`SqliteDatabase.transaction`) and its executor;
 *   R4 + store.readAll: the page read through the event store's public `readAll`;
 *   R5 projector: `startProjector` (registry, lease guard, checkpoint, events).
 * Steps run interleaved (order reversed every other round) on fresh copies of one log; prints the median
 * CPU µs per event of each (CPU is steadier than wall time on a shared machine).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteEventStore, projection, type RecordedEvent, type SqlExecutor, startProjector, storeDatabase } from '../src/index.js';
import type { SqliteDatabase } from '../src/storage/sqlite.js';
import { BATCH, writeLog } from './projections-common.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const only = process.argv[4]?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'tessera-proj-steps-'));
const base = join(dir, 'log.db');
const path = join(dir, 'run.db');
const UPSERT = 'INSERT INTO t (cart_id, total) VALUES (?, ?) ON CONFLICT (cart_id) DO UPDATE SET total = t.total + excluded.total';
const CHECKPOINT = 'INSERT INTO ck (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position';
const ROW = `'[' || global_position || ',' || json_quote(event_id) || ',' || json_quote(stream_id) || ',' || stream_version || ',' ||
  json_quote(event_type) || ',' || data || ',' || coalesce(metadata, 'null') || ',' || schema_version || ',' || recorded_at || ']'`;
const READ_ROWS = `SELECT ${ROW} FROM tessera_events WHERE global_position >= ? AND event_type IN (?) ORDER BY global_position LIMIT ?`;
type JsonRow = [number, string, string, number, string, unknown, Record<string, unknown> | null, number, number];
type Cart = { qty: number; price: number };

function toEvent(text: string): RecordedEvent {
  const r = JSON.parse(text) as JsonRow;
  const e: RecordedEvent = { id: r[1], streamId: r[2], streamVersion: BigInt(r[3]), globalPosition: BigInt(r[0]), type: r[4], data: r[5], recordedAt: new Date(r[8]), schemaVersion: r[7] };
  if (r[6] !== null) e.metadata = r[6];
  return e;
}

/** A fresh copy of the log with empty read-model tables. */
function fresh(): void {
  copyFileSync(base, path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL); CREATE TABLE ck (name TEXT PRIMARY KEY, position INTEGER NOT NULL)');
  db.close();
}

function cpuWatch(): () => number {
  const c = process.cpuUsage();
  return () => {
    const u = process.cpuUsage(c);
    return (u.user + u.system) / N;
  };
}

function openRaw(): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return db;
}

function r0(): number {
  const db = openRaw();
  const read = db.prepare('SELECT global_position, stream_id, data FROM tessera_events WHERE global_position > ? ORDER BY global_position LIMIT ?').raw(true);
  const [up, ck] = [db.prepare(UPSERT), db.prepare(CHECKPOINT)];
  const page = db.transaction((rows: Array<[number, string, string]>) => {
    for (const [, cart, data] of rows) {
      const d = JSON.parse(data) as Cart;
      up.run(cart, d.qty * d.price);
    }
    ck.run('x', rows[rows.length - 1]![0]);
  });
  const stop = cpuWatch();
  for (let pos = 0; ; ) {
    const rows = read.all(pos, BATCH) as Array<[number, string, string]>;
    if (rows.length === 0) break;
    page(rows);
    pos = rows[rows.length - 1]![0];
  }
  const cpu = stop();
  db.close();
  return cpu;
}

async function r12(asyncApply: boolean): Promise<number> {
  const db = openRaw();
  const read = db.prepare(READ_ROWS).pluck(true);
  const [up, ck, begin, commit] = [db.prepare(UPSERT), db.prepare(CHECKPOINT), db.prepare('BEGIN IMMEDIATE'), db.prepare('COMMIT')];
  const run = async (params: unknown[]): Promise<{ changes: number }> => ({ changes: up.run(...params).changes });
  const apply = async (e: RecordedEvent): Promise<void> => {
    const d = e.data as Cart;
    await run([e.streamId, d.qty * d.price]);
  };
  const stop = cpuWatch();
  for (let pos = 1n; ; ) {
    const events = (read.all(pos, 'ItemAdded', BATCH) as string[]).map(toEvent);
    if (events.length === 0) break;
    begin.run();
    for (const e of events) {
      if (asyncApply) await apply(e);
      else up.run(e.streamId, (e.data as Cart).qty * (e.data as Cart).price);
    }
    ck.run('x', events[events.length - 1]!.globalPosition);
    commit.run();
    pos = events[events.length - 1]!.globalPosition + 1n;
  }
  const cpu = stop();
  db.close();
  return cpu;
}

async function r34(viaStore: boolean): Promise<number> {
  const store = await openSqliteEventStore({ path });
  const db = storeDatabase(store) as SqliteDatabase;
  const apply = async (e: RecordedEvent, tx: SqlExecutor): Promise<void> => {
    const d = e.data as Cart;
    await tx.run(UPSERT, [e.streamId, d.qty * d.price]);
  };
  const stop = cpuWatch();
  for (let pos = 1n; ; ) {
    const events = viaStore
      ? await store.readAll({ fromPosition: pos, maxCount: BATCH, types: ['ItemAdded'] })
      : (db.statement(READ_ROWS).pluck(true).all(pos, 'ItemAdded', BATCH) as string[]).map(toEvent);
    if (events.length === 0) break;
    await db.transaction(async (tx) => {
      for (const e of events) await apply(e, tx);
      await tx.run(CHECKPOINT, ['x', events[events.length - 1]!.globalPosition]);
    });
    pos = events[events.length - 1]!.globalPosition + 1n;
  }
  const cpu = stop();
  await store.close();
  return cpu;
}

async function r5(): Promise<number> {
  const store = await openSqliteEventStore({ path });
  const p = projection({
    name: 'steps', version: 1, tables: ['t2'], handles: ['ItemAdded'],
    setup: (db, t) => db.exec(`CREATE TABLE IF NOT EXISTS ${t.t2} (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`),
    apply: async (e, db) => {
      const d = e.data as Cart;
      await db.run(UPSERT, [e.streamId, d.qty * d.price]);
    },
  });
  const stop = cpuWatch();
  const projector = await startProjector({ store, projections: [p], batchSize: BATCH, pollIntervalMs: 5 });
  await new Promise<void>((resolve) => projector.events.on('caught-up', () => resolve()));
  const cpu = stop();
  await projector.stop();
  await store.close();
  return cpu;
}

const steps: Record<string, () => number | Promise<number>> = {
  'R0 raw': r0,
  'R1 + full events': () => r12(false),
  'R2 + async apply': () => r12(true),
  'R3 + driver transaction': () => r34(false),
  'R4 + store.readAll': () => r34(true),
  'R5 projector': r5,
};

try {
  const store = await openSqliteEventStore({ path: base });
  await writeLog(store, N);
  await store.close();
  const names = Object.keys(steps).filter((k) => !only || only.some((o) => k.startsWith(o)));
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      fresh();
      (cpu[name] ??= []).push(await steps[name]!());
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const raw = median(cpu['R0 raw'] ?? [Number.NaN]);
  for (const [name, xs] of Object.entries(cpu)) {
    console.log(`${name.padEnd(24)} CPU median ${median(xs).toFixed(3)} µs/event (min ${Math.min(...xs).toFixed(3)})${Number.isNaN(raw) ? '' : `  raw/this ${(raw / median(xs)).toFixed(2)}`}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
