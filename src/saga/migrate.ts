import { runMigrations } from '../storage/migrations.js';
import type { SqlDriver } from '../storage/port.js';
import { SAGA_PG_MIGRATIONS, SAGA_PG_MIGRATIONS_TABLE } from './pg-apply.js';
import { SAGA_MIGRATIONS, SAGA_MIGRATIONS_TABLE, SAGA_SQLITE_MIGRATIONS, SAGA_SQLITE_MIGRATIONS_TABLE } from './schema.js';

/**
 * Creates or upgrades the saga tables on a store's database: the migrations both engines share, then the
 * dialect's own (the one-statement transition function on PostgreSQL, clustered tables on SQLite). The engine
 * runs this when it opens and `tessera migrate` runs it ahead of time; each set takes its migration lock, so
 * concurrent callers are safe.
 * @example
 * ```ts
 * await migrateSagaTables(storeDatabase(store));
 * ```
 */
export async function migrateSagaTables(db: SqlDriver): Promise<void> {
  await runMigrations(db, SAGA_MIGRATIONS_TABLE, SAGA_MIGRATIONS);
  if (db.dialect === 'postgres') await runMigrations(db, SAGA_PG_MIGRATIONS_TABLE, SAGA_PG_MIGRATIONS);
  else await runMigrations(db, SAGA_SQLITE_MIGRATIONS_TABLE, SAGA_SQLITE_MIGRATIONS);
}
