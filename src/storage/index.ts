/**
 * The storage subpath: the SQL port and its drivers, for building your own read models and tables.
 *
 * @example
 * ```ts
 * import { openSqlite, runMigrations } from 'tessera/storage';
 * ```
 * @module
 */
export type { SqlDialect, SqlDriver, SqlExecutor, SqlValue } from './port.js';
export { openSqlite, SqliteDatabase, type SqliteOptions } from './sqlite.js';
export { runMigrations, type Migration } from './migrations.js';
export { openPostgres, PostgresDatabase, type PostgresOptions } from './postgres.js';
