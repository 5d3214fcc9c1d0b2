import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { type EventStore, openPostgresEventStore, openSagaEngine, openSqliteEventStore, type SagaEngine, type SagaEngineOptions, type SagaEngineStats } from '../../src/index.js';
import type { CommonStoreOptions } from '../../src/eventstore/options.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';

/** One database for one test: open as many stores on it as the test needs (several engines share it). */
export interface SagaDb {
  open(options?: CommonStoreOptions): Promise<EventStore>;
  /**
   * A store for a second engine "elsewhere". On PostgreSQL a new pool; on SQLite the same store: two
   * connections of one process would block each other's event loop on the file lock (busy_timeout is a
   * synchronous wait), so in-process engines share the connection, and other processes get their own.
   */
  another(first: EventStore): Promise<EventStore>;
  cleanup(): Promise<void>;
}

/** The adapters every saga suite runs on: a SQLite file, and a fresh schema on the shared PostgreSQL server. */
export const ADAPTERS: Array<{ name: string; make(): SagaDb }> = [
  {
    name: 'sqlite',
    make() {
      const tmp = tempDir('tessera-saga-');
      const opened: EventStore[] = [];
      return {
        open: async (o = {}) => {
          const s = await openSqliteEventStore({ ...o, path: join(tmp.dir, 'saga.db') });
          opened.push(s);
          return s;
        },
        another: async (first) => first,
        cleanup: async () => {
          await Promise.all(opened.map((s) => s.close()));
          tmp.remove();
        },
      };
    },
  },
  {
    name: 'postgres',
    make() {
      const schema = freshSchemaName('saga');
      const opened: EventStore[] = [];
      return {
        open: async (o = {}) => {
          const s = await openPostgresEventStore({ ...o, connectionString: TEST_PG_URL, schema, maxConnections: 5 });
          opened.push(s);
          return s;
        },
        another: async () => {
          const s = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, maxConnections: 5 });
          opened.push(s);
          return s;
        },
        cleanup: async () => {
          await Promise.all(opened.map((s) => s.close()));
          await dropSchemas([schema]);
        },
      };
    },
  },
];

type Engine = SagaEngine & { stats(): SagaEngineStats };

/** Per-test fixture: a database, a store on it, and engines that are stopped after the test. */
export interface SagaFixture {
  db: SagaDb;
  store: EventStore;
  engine(opts: Omit<SagaEngineOptions, 'store'> & { store?: EventStore }): Promise<Engine>;
}

/** Registers beforeEach/afterEach for a suite on one adapter and returns a getter for the current fixture. */
export function useSagaFixture(adapter: { make(): SagaDb }): () => SagaFixture {
  let current: SagaFixture | undefined;
  let engines: Engine[] = [];
  beforeEach(async () => {
    const db = adapter.make();
    const store = await db.open();
    engines = [];
    current = {
      db,
      store,
      engine: async (opts) => {
        const e = await openSagaEngine({ pollIntervalMs: 10, ...opts, store: opts.store ?? store });
        engines.push(e);
        return e;
      },
    };
  });
  afterEach(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await current?.db.cleanup();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('fixture used outside a test');
    return current;
  };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise with its resolve function exposed (to hold a step until the test lets it go). */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}
