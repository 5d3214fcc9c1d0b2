import { InvalidArgumentError } from '../../errors.js';
import { runMigrations } from '../../storage/migrations.js';
import { SqliteDatabase, type SqliteOptions } from '../../storage/sqlite.js';
import { type CommonStoreOptions, resolveAppendHooks, resolveCommonOptions } from '../options.js';
import { TesseraEventStore } from '../store.js';
import type { EventStore } from '../types.js';
import { SqliteEventStoreBackend } from './backend.js';
import { SQLITE_EVENTSTORE_MIGRATIONS, SQLITE_MIGRATIONS_TABLE } from './schema.js';

/** Options of {@link openSqliteEventStore}. */
export interface SqliteEventStoreOptions extends CommonStoreOptions {
  /** Database file; `':memory:'` (the default) keeps everything in this process. Parent folders must exist. */
  path?: string;
  /** `FULL` (default) survives power loss; `NORMAL` is faster and survives process crashes. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

/**
 * Opens (and creates or migrates) a SQLite event store. Several processes may open the same file.
 *
 * @example
 * ```ts
 * import { openSqliteEventStore } from 'tessera';
 * const store = await openSqliteEventStore({ path: './data/tessera.db' });
 * await store.appendToStream('cart-1', [{ type: 'ItemAdded', data: { sku: 'A', qty: 1 } }], { expectedVersion: 'no_stream' });
 * const events = await store.readStream('cart-1');
 * await store.close();
 * ```
 */
export async function openSqliteEventStore(options: SqliteEventStoreOptions = {}): Promise<EventStore> {
  const common = resolveCommonOptions(options);
  const hooks = resolveAppendHooks(options.appendHooks);
  const { path, synchronous, busyTimeoutMs } = options;
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    throw new InvalidArgumentError('path', 'is not a non-empty string', "Pass a file path such as './data/tessera.db', or ':memory:'.");
  }
  const sqliteOptions: SqliteOptions = {};
  if (path !== undefined) sqliteOptions.path = path;
  if (synchronous !== undefined) sqliteOptions.synchronous = synchronous;
  if (busyTimeoutMs !== undefined) sqliteOptions.busyTimeoutMs = busyTimeoutMs;
  const db = new SqliteDatabase(sqliteOptions);
  try {
    await runMigrations(db, SQLITE_MIGRATIONS_TABLE, SQLITE_EVENTSTORE_MIGRATIONS);
    for (const hook of hooks) if (hook.setup) await db.transaction((tx) => hook.setup!(tx));
  } catch (e) {
    await db.close();
    throw e;
  }
  return new TesseraEventStore({ ...common, sql: db, backend: new SqliteEventStoreBackend(db, hooks) });
}
