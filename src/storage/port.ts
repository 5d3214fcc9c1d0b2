/**
 * The SQL port every pattern builds on: a few async calls that SQLite and PostgreSQL both implement.
 * Placeholders are `?` in both dialects (the PostgreSQL driver numbers them), so a projection or saga table
 * written once runs on either engine.
 *
 * @example
 * ```ts
 * await db.transaction(async (tx) => {
 *   const [row] = await tx.query<{ n: number }>('SELECT count(*) AS n FROM orders WHERE status = ?', ['open']);
 *   await tx.run('UPDATE stats SET open_orders = ?', [row?.n ?? 0]);
 * });
 * ```
 */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** Anything that can run statements: the driver itself, or an open transaction. */
export interface SqlExecutor {
  /** Runs one statement and returns its rows (an empty array for statements without rows). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** Runs one statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Runs a script of one or more statements without parameters (DDL, migrations). */
  exec(sql: string): Promise<void>;
}

/** Which SQL engine is behind a driver; callers branch on it only for engine-specific SQL. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A connection (SQLite) or pool (PostgreSQL) behind the port. */
export interface SqlDriver extends SqlExecutor {
  readonly dialect: SqlDialect;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * On SQLite the write lock is taken at BEGIN (`BEGIN IMMEDIATE`), so the transaction never fails half-way
   * with SQLITE_BUSY on its first write.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Closes the connection(s); later calls fail with `StoreClosedError`. */
  close(): Promise<void>;
}
