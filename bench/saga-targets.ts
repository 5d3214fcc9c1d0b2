import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  defineSaga,
  type EventStore,
  openPostgresEventStore,
  openSagaEngine,
  openSqlite,
  openSqliteEventStore,
  type SqlDriver,
} from '../src/index.js';

/** The shared server by default; TESSERA_BENCH_PG overrides (an admin connection string). */
export const SAGA_BENCH_PG = process.env.TESSERA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One way of running N sagas of K no-op steps durably; resolves when all have finished. */
export interface SagaTarget {
  name: string;
  run(sagas: number, steps: number, concurrency: number): Promise<{ note?: string }>;
  close(): Promise<void>;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Tessera's saga engine on a store (SQLite file or a fresh PostgreSQL schema). */
export async function tesseraTarget(engine: 'sqlite' | 'postgres', lifecycleEvents = true): Promise<SagaTarget> {
  let store: EventStore;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-saga-bench-'));
    store = await openSqliteEventStore({ path: join(dir, 'bench.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `saga_bench_${process.pid}_${Date.now().toString(36)}`;
    store = await openPostgresEventStore({ connectionString: SAGA_BENCH_PG, schema, maxConnections: 16 });
    cleanup = () => adminQuery(SAGA_BENCH_PG, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
  let round = 0;
  return {
    name: `tessera saga engine (${engine}${lifecycleEvents ? '' : ', no events'})`,
    async run(sagas, steps, concurrency) {
      const def = defineSaga({ name: 'bench', version: 1, steps: Array.from({ length: steps }, (_, k) => ({ name: `s${k}`, action: async () => k })) });
      const e = await openSagaEngine({ store, sagas: [def], maxConcurrent: concurrency, pollIntervalMs: 5, lifecycleEvents });
      const prefix = `r${round++}-`;
      try {
        await Promise.all(Array.from({ length: sagas }, (_, i) => e.start('bench', `${prefix}${i}`, { i })));
        for (let i = 0; i < sagas; i++) {
          const s = await e.waitForTerminal(`${prefix}${i}`, { timeoutMs: 600_000 });
          if (s.status !== 'completed') throw new Error(`saga ${s.id} ended ${s.status}`);
        }
        return { note: `claims ${e.stats().claimed}` };
      } finally {
        await e.stop();
      }
    },
    async close() {
      await store.close();
      await cleanup();
    },
  };
}

/**
 * The raw-driver floor: what any durable orchestrator must at least do — one committed transaction per step
 * (record the result and advance the cursor) plus one to create the instance — with no claims, leases or log.
 */
export async function rawTarget(engine: 'sqlite' | 'postgres'): Promise<SagaTarget> {
  let db: SqlDriver | pg.Pool;
  let cleanup: () => Promise<void>;
  const ddl = 'CREATE TABLE IF NOT EXISTS raw_saga (id TEXT PRIMARY KEY, next_step INTEGER NOT NULL); CREATE TABLE IF NOT EXISTS raw_step (id TEXT NOT NULL, step INTEGER NOT NULL, output TEXT, PRIMARY KEY (id, step));';
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-saga-bench-raw-'));
    const sqlite = openSqlite({ path: join(dir, 'raw.db') });
    await sqlite.exec(ddl);
    db = sqlite;
    cleanup = async () => {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const schema = `saga_raw_${process.pid}_${Date.now().toString(36)}`;
    await adminQuery(SAGA_BENCH_PG, `CREATE SCHEMA ${schema}`);
    const url = new URL(SAGA_BENCH_PG);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 16 });
    await pool.query(ddl);
    db = pool;
    cleanup = async () => {
      await pool.end();
      await adminQuery(SAGA_BENCH_PG, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    };
  }
  let round = 0;
  const sagaRun = async (id: string, steps: number): Promise<void> => {
    if (db instanceof pg.Pool) {
      await db.query('INSERT INTO raw_saga (id, next_step) VALUES ($1, 0)', [id]);
      for (let k = 0; k < steps; k++) {
        const c = await db.connect();
        try {
          await c.query('BEGIN');
          await c.query('INSERT INTO raw_step (id, step, output) VALUES ($1, $2, $3)', [id, k, String(k)]);
          await c.query('UPDATE raw_saga SET next_step = $1 WHERE id = $2', [k + 1, id]);
          await c.query('COMMIT');
        } finally {
          c.release();
        }
      }
    } else {
      const d = db;
      await d.run('INSERT INTO raw_saga (id, next_step) VALUES (?, 0)', [id]);
      for (let k = 0; k < steps; k++) {
        await d.transaction(async (tx) => {
          await tx.run('INSERT INTO raw_step (id, step, output) VALUES (?, ?, ?)', [id, k, String(k)]);
          await tx.run('UPDATE raw_saga SET next_step = ? WHERE id = ?', [k + 1, id]);
        });
      }
    }
  };
  return {
    name: `raw driver floor (${engine})`,
    async run(sagas, steps, concurrency) {
      const prefix = `r${round++}-`;
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < sagas) await sagaRun(`${prefix}${next++}`, steps);
      }));
      return {};
    },
    close: cleanup,
  };
}

/** DBOS Transact (durable workflows on PostgreSQL): one workflow of K `runStep` calls per saga. */
export async function dbosTarget(): Promise<SagaTarget> {
  const { DBOS } = await import('@dbos-inc/dbos-sdk');
  const database = `saga_bench_dbos_${process.pid}`;
  const url = withDatabase(SAGA_BENCH_PG, database);
  let steps = 0;
  const workflow = DBOS.registerWorkflow(
    async (_i: number) => {
      for (let k = 0; k < steps; k++) await DBOS.runStep(async () => k, { name: `s${k}` });
      return 'done';
    },
    { name: 'benchSaga' },
  );
  DBOS.setConfig({ name: 'tessera-saga-bench', systemDatabaseUrl: url, systemDatabasePoolSize: 16 });
  await DBOS.launch();
  let round = 0;
  return {
    name: 'DBOS Transact 5 (postgres)',
    async run(sagas, k, concurrency) {
      steps = k;
      const prefix = `r${round++}-`;
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < sagas) {
          const i = next++;
          const handle = await DBOS.startWorkflow(workflow, { workflowID: `${prefix}${i}` })(i);
          await handle.getResult();
        }
      }));
      return {};
    },
    async close() {
      await DBOS.shutdown();
      await adminQuery(SAGA_BENCH_PG, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    },
  };
}
