import { type Event, STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import Database from 'better-sqlite3';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { getSQLiteEventStore, type SQLiteConnection, sqliteConnection } from '@event-driven-io/emmett-sqlite';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';
import type { RowSpec, Target } from '../types.js';
import { freshDatabase } from './pg-admin.js';

type ItemAdded = Event<typeof EVENT_TYPE, ReturnType<typeof eventData>>;
const item = (i: number): ItemAdded => ({ type: EVENT_TYPE, data: eventData(i) });

/** The part of Emmett's event store API every row uses (SQLite and PostgreSQL stores share it). */
interface EmmettStore {
  appendToStream(s: string, events: ItemAdded[], o?: { expectedStreamVersion?: bigint | typeof STREAM_DOES_NOT_EXIST }): Promise<unknown>;
  readStream(s: string): Promise<{ events: unknown[] }>;
}

const MAX_ATTEMPTS = 3;

/**
 * Emmett's SQLite store fails some calls with SQLITE_BUSY (a connection per call in default mode, or a
 * COMMIT racing its own un-awaited PRAGMA): a caller has to retry those, so the harness does, and reports
 * how many retries it took instead of dropping the row.
 */
function emmettTarget(store: EmmettStore, close: () => Promise<void>): Target {
  let retries = 0;
  const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const transient = e instanceof Error && /SQLITE_BUSY|no transaction is active/.test(e.message);
        if (!transient || attempt >= MAX_ATTEMPTS) throw e;
        retries++;
        await new Promise((r) => setTimeout(r, attempt));
      }
    }
  };
  return {
    appendNew: (s) => retry(async () => void (await store.appendToStream(s, [item(0)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }))),
    appendExpected: (s, v) => retry(async () => void (await store.appendToStream(s, [item(Number(v))], { expectedStreamVersion: v }))),
    appendBatch: (s, n) =>
      retry(async () => void (await store.appendToStream(s, Array.from({ length: n }, (_, i) => item(i)), { expectedStreamVersion: STREAM_DOES_NOT_EXIST }))),
    read: (s) => retry(async () => (await store.readStream(s)).events.length),
    note: () => (retries > 0 ? `${retries} calls retried after SQLITE_BUSY` : undefined),
    close,
  };
}

/**
 * Emmett's SQLite store (node-sqlite3 underneath, WAL, synchronous left at FULL). `default`: as
 * documented, a file name only, so Emmett opens a connection per call. `shared`: one ambient connection
 * passed through `connectionOptions: { singleton: true, connection }`, which Emmett never closes itself.
 */
export function emmettSqliteRow(mode: 'default' | 'shared'): RowSpec {
  return {
    id: `emmett-sqlite-${mode}`,
    label: `Emmett SQLite (${mode === 'default' ? 'default' : 'shared connection'})`,
    engine: 'sqlite',
    kind: 'emmett',
    durability: 'FULL',
    open: async (): Promise<Target> => {
      const file = tempFile('emmett.db');
      // Emmett sends `PRAGMA journal_mode = WAL` on every new connection without waiting for it; when it lands
      // inside another statement's transaction, node-sqlite3 emits an unhandled error that kills the process.
      // The journal mode is stored in the file, so switching it once here makes Emmett's pragma a no-op.
      const init = new Database(file.path);
      init.pragma('journal_mode = WAL');
      init.close();
      let connection: SQLiteConnection | null = null;
      const schema = { autoMigration: 'CreateOrUpdate' as const };
      const store =
        mode === 'default'
          ? getSQLiteEventStore({ fileName: file.path, schema })
          : getSQLiteEventStore({
              fileName: file.path,
              schema,
              connectionOptions: { singleton: true, connection: (connection = sqliteConnection({ fileName: file.path })) },
            });
      await store.schema.migrate();
      return emmettTarget(store as unknown as EmmettStore, async () => {
        connection?.close();
        file.remove();
      });
    },
  };
}

/** Emmett's PostgreSQL store (pooled, its default) on a fresh database. */
export function emmettPgRow(unavailable?: string): RowSpec {
  return {
    id: 'emmett-pg',
    label: 'Emmett PG',
    engine: 'postgres',
    kind: 'emmett',
    ...(unavailable ? { unavailable } : {}),
    open: async (): Promise<Target> => {
      const db = await freshDatabase('emmett');
      const store = getPostgreSQLEventStore(db.connectionString, { schema: { autoMigration: 'CreateOrUpdate' } });
      await store.schema.migrate();
      return emmettTarget(store as unknown as EmmettStore, async () => {
        await store.close();
        await db.drop();
      });
    },
  };
}
