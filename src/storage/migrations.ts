import type { SqlDriver } from './port.js';

/** One versioned schema change. `sql` may hold several statements. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the migrations not yet recorded in `table`, in version order, in one transaction.
 * Safe when several processes open the same database at once: on SQLite the transaction starts with
 * `BEGIN IMMEDIATE` (one writer at a time, the others wait and then find the work done); on PostgreSQL a
 * transaction-scoped advisory lock keyed by the table name does the same.
 *
 * @example
 * ```ts
 * await runMigrations(db, 'tessera_migrations', [
 *   { version: 1, name: 'orders', sql: 'CREATE TABLE orders (id TEXT PRIMARY KEY)' },
 * ]);
 * ```
 */
export async function runMigrations(driver: SqlDriver, table: string, migrations: readonly Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  return driver.transaction(async (tx) => {
    if (driver.dialect === 'postgres') {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', [table]);
    }
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const rows = await tx.query<{ version: number | bigint }>(`SELECT version FROM ${table}`);
    const applied = new Set(rows.map((r) => Number(r.version)));
    const done: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.run(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`, [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      done.push(m.version);
    }
    return done;
  });
}
