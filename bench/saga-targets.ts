import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { SQL as EVENT_SQL, SQLITE_EVENTSTORE_MIGRATIONS } from '../src/eventstore/sqlite/schema.js';
import { defineSaga, type EventStore, openPostgresEventStore, openSagaEngine, openSqliteEventStore } from '../src/index.js';
import { SAGA_MIGRATIONS, SAGA_SQLITE_MIGRATIONS } from '../src/saga/schema.js';
import { uuidV7 } from '../src/support/ids.js';

/** The shared server by default; TESSERA_BENCH_PG overrides (an admin connection string). */
export const SAGA_BENCH_PG = process.env.TESSERA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One way of running sagas of K no-op steps durably; `run` resolves when all of `ids` have finished. */
export interface SagaTarget {
  name: string;
  /** The PostgreSQL database it commits to (for counting commits), or null for SQLite. */
  database: string | null;
  run(ids: string[], steps: number, concurrency: number): Promise<void>;
  /** Stops background work (pollers) until `resume`, so a commit count covers the run alone. */
  quiesce?(): Promise<void>;
  /** Restarts what `quiesce` stopped (before a count starts: opening an engine commits its migrations check). */
  resume?(): Promise<void>;
  close(): Promise<void>;
}

/** Runs `one` over `ids` with `concurrency` workers (each starts a saga and waits for its end, then the next). */
export async function drive(ids: string[], concurrency: number, one: (id: string) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < ids.length) await one(ids[next++]!);
  }));
}

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Committed transactions of a database so far (`pg_stat_database.xact_commit`; every autocommit read counts too). */
export async function committedTransactions(database: string): Promise<number> {
  const rows = await adminQuery<{ n: string }>(SAGA_BENCH_PG, 'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(rows[0]?.n ?? 0);
}

/** Tessera's saga engine on a store (a SQLite file, or a fresh schema of the bench database). */
export async function tesseraTarget(engine: 'sqlite' | 'postgres', lifecycleEvents: boolean, database: string, steps: number): Promise<SagaTarget> {
  let store: EventStore;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-saga-bench-'));
    store = await openSqliteEventStore({ path: join(dir, 'bench.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `saga_bench_${Date.now().toString(36)}`;
    const url = withDatabase(SAGA_BENCH_PG, database);
    store = await openPostgresEventStore({ connectionString: url, schema, maxConnections: 16 });
    cleanup = async () => void (await adminQuery(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  }
  const def = defineSaga({ name: 'bench', version: 1, steps: Array.from({ length: steps }, (_, k) => ({ name: `s${k}`, action: async () => k })) });
  // One engine for every run (as a service keeps one): its start-up is not part of any timed run.
  const open = (): ReturnType<typeof openSagaEngine> => openSagaEngine({ store, sagas: [def], maxConcurrent: 16, lifecycleEvents });
  let e = await open();
  let stopped = false;
  const resume = async (): Promise<void> => {
    if (!stopped) return;
    e = await open();
    stopped = false;
  };
  return {
    name: `tessera ${engine}${lifecycleEvents ? '' : ' (no lifecycle events)'}`,
    database: engine === 'postgres' ? database : null,
    async quiesce() {
      await e.stop();
      stopped = true;
    },
    resume,
    async run(ids, _steps, concurrency) {
      await resume();
      await drive(ids, concurrency, async (id) => {
        await e.start('bench', id, { id });
        const s = await e.waitForTerminal(id, { timeoutMs: 600_000 });
        if (s.status !== 'completed') throw new Error(`saga ${id} ended ${s.status}`);
      });
    },
    async close() {
      await e.stop();
      await store.close();
      await cleanup();
    },
  };
}

/**
 * The raw-driver floor: the commits a durable orchestrator needs at least — one to create the instance, one
 * per step recording its result and advancing the cursor — with no claims, leases, fences or events.
 */
export async function rawPgTarget(database: string): Promise<SagaTarget> {
  const schema = `saga_raw_${Date.now().toString(36)}`;
  const url = new URL(withDatabase(SAGA_BENCH_PG, database));
  await adminQuery(url.toString(), `CREATE SCHEMA ${schema}`);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 16 });
  await pool.query('CREATE TABLE raw_saga (id TEXT PRIMARY KEY, next_step INTEGER NOT NULL); CREATE TABLE raw_step (id TEXT NOT NULL, step INTEGER NOT NULL, output TEXT, PRIMARY KEY (id, step))');
  return {
    name: 'raw pg (1 + steps commits per saga)',
    database,
    async run(ids, steps, concurrency) {
      await drive(ids, concurrency, async (id) => {
        await pool.query('INSERT INTO raw_saga (id, next_step) VALUES ($1, 0)', [id]);
        for (let k = 0; k < steps; k++) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO raw_step (id, step, output) VALUES ($1, $2, $3)', [id, k, String(k)]);
            await c.query('UPDATE raw_saga SET next_step = $1 WHERE id = $2', [k + 1, id]);
            await c.query('COMMIT');
          } finally {
            c.release();
          }
        }
      });
    },
    async close() {
      await pool.end();
      await adminQuery(withDatabase(SAGA_BENCH_PG, database), `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** The same commits straight on better-sqlite3 (WAL, synchronous FULL like Tessera's default, prepared statements). */
export async function rawSqliteTarget(): Promise<SagaTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-saga-bench-raw-'));
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE raw_saga (id TEXT PRIMARY KEY, next_step INTEGER NOT NULL); CREATE TABLE raw_step (id TEXT NOT NULL, step INTEGER NOT NULL, output TEXT, PRIMARY KEY (id, step))');
  const insert = db.prepare('INSERT INTO raw_saga (id, next_step) VALUES (?, 0)');
  const stepRow = db.prepare('INSERT INTO raw_step (id, step, output) VALUES (?, ?, ?)');
  const advance = db.prepare('UPDATE raw_saga SET next_step = ? WHERE id = ?');
  const step = db.transaction((id: string, k: number) => {
    stepRow.run(id, k, String(k));
    advance.run(k + 1, id);
  });
  return {
    name: 'raw better-sqlite3 (1 + steps commits per saga)',
    database: null,
    async run(ids, steps, concurrency) {
      // Each await lets the other workers interleave, as the engine's sagas do; the commits stay one by one.
      await drive(ids, concurrency, async (id) => {
        insert.run(id);
        for (let k = 0; k < steps; k++) {
          await Promise.resolve();
          step(id, k);
        }
      });
    },
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The floor of any engine on Tessera's SQLite schema: the statements Tessera's transitions run (the fenced
 * instance update, the step result, the next step's start, and with `events` the two lifecycle appends with the
 * event store's own statements), straight on better-sqlite3 in synchronous transactions: no engine, no promises.
 * What it loses against {@link rawSqliteTarget} is the schema's price (wider rows, the runnable and list indexes,
 * the event log's keys); what Tessera loses against it is the engine's.
 */
export async function rawSqliteSchemaTarget(events: boolean): Promise<SagaTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-saga-bench-floor-'));
  const db = new Database(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  for (const m of [...SQLITE_EVENTSTORE_MIGRATIONS, ...SAGA_MIGRATIONS, ...SAGA_SQLITE_MIGRATIONS]) db.exec(m.sql);
  const insert = db.prepare(`INSERT INTO tessera_saga_instances (saga_id, saga_type, def_version, status, input, deadline_at, lease_owner, lease_until, fence, created_at, updated_at)
    VALUES (?, 'bench', 1, 'running', ?, NULL, ?, ?, 1, ?, ?) ON CONFLICT (saga_id) DO NOTHING RETURNING saga_id`);
  const start = db.prepare(`INSERT INTO tessera_saga_steps (saga_id, step_no, phase, name, state, attempts, fence, started_at) VALUES (?, ?, 'do', ?, 'started', 1, 1, ?)
    ON CONFLICT (saga_id, step_no, phase) DO UPDATE SET state = 'started', attempts = tessera_saga_steps.attempts + 1, fence = excluded.fence,
    started_at = excluded.started_at, ended_at = NULL, uncertain = 0 RETURNING attempts, budget_from`);
  const advance = db.prepare('UPDATE tessera_saga_instances SET updated_at = ?, next_step = ?, timer_at = NULL WHERE saga_id = ? AND fence = 1 RETURNING cancel_requested');
  const complete = db.prepare(`UPDATE tessera_saga_instances SET updated_at = ?, status = 'completed', next_step = ?, wake_at = NULL, timer_at = NULL,
    lease_owner = NULL, lease_until = NULL WHERE saga_id = ? AND fence = 1 RETURNING cancel_requested`);
  const finish = db.prepare("UPDATE tessera_saga_steps SET state = 'succeeded', output = ?, error = NULL, uncertain = 0, fence = 1, ended_at = ? WHERE saga_id = ? AND step_no = ? AND phase = 'do'");
  const version = db.prepare(EVENT_SQL.streamVersion).pluck();
  const append = db.prepare(EVENT_SQL.insert);
  const event = (id: string, type: string, status: string, now: number): void => {
    const v = ((version.get(`saga-${id}`) as number | undefined) ?? 0) + 1;
    append.run(uuidV7(), `saga-${id}`, v, type, JSON.stringify({ sagaId: id, sagaName: 'bench', version: 1, status }), JSON.stringify({ correlationId: id }), 1, now);
  };
  const owner = uuidV7();
  const first = db.transaction((id: string, now: number) => {
    insert.all(id, JSON.stringify({ id }), owner, now + 15_000, now, now);
    if (events) event(id, 'SagaStarted', 'running', now);
    start.get(id, 0, 's0', now);
  });
  const step = db.transaction((id: string, k: number, last: boolean, now: number) => {
    (last ? complete : advance).get(now, k + 1, id);
    finish.run(String(k), now, id, k);
    if (last && events) event(id, 'SagaCompleted', 'completed', now);
    if (!last) start.get(id, k + 1, `s${k + 1}`, now);
  });
  return {
    name: `raw better-sqlite3 on Tessera's saga schema${events ? ' + lifecycle events' : ''}`,
    database: null,
    async run(ids, steps, concurrency) {
      await drive(ids, concurrency, async (id) => {
        first.immediate(id, Date.now());
        for (let k = 0; k < steps; k++) {
          await Promise.resolve();
          step.immediate(id, k, k === steps - 1, Date.now());
        }
      });
    },
    async close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** DBOS Transact (durable workflows on PostgreSQL, its own system database): one workflow of K `runStep` calls per saga. */
export async function dbosTarget(): Promise<SagaTarget> {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  const database = `saga_bench_dbos_${process.pid}`;
  let steps = 0;
  const workflow = DBOS.registerWorkflow(
    async (_id: string) => {
      for (let k = 0; k < steps; k++) await DBOS.runStep(async () => k, { name: `s${k}` });
      return 'done';
    },
    { name: 'benchSaga' },
  );
  DBOS.setConfig({ name: 'tessera-saga-bench', systemDatabaseUrl: withDatabase(SAGA_BENCH_PG, database), systemDatabasePoolSize: 16 });
  await DBOS.launch();
  return {
    name: 'DBOS Transact 5',
    database,
    async run(ids, k, concurrency) {
      steps = k;
      await drive(ids, concurrency, async (id) => {
        const handle = await DBOS.startWorkflow(workflow, { workflowID: id })(id);
        await handle.getResult();
      });
    },
    async close() {
      await DBOS.shutdown();
      await adminQuery(SAGA_BENCH_PG, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}
