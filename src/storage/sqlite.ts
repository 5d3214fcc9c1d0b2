import Database from 'better-sqlite3';
import { InvalidArgumentError, isTesseraError, StorageError, StoreClosedError } from '../errors.js';
import { acquireFileLock, releaseFileLock } from './file-locks.js';
import { Mutex } from './mutex.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './port.js';

/** Options for {@link openSqlite}. */
export interface SqliteOptions {
  /** File path, or `':memory:'` (the default) for a private in-memory database. */
  path?: string;
  /**
   * `FULL` (default): an acknowledged commit survives power loss. `NORMAL`: faster, and still safe against
   * process crashes, but the last commits may be lost if the machine loses power.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long a writer waits for another process's write lock before failing (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Open read-only (for tools that must never write). */
  readonly?: boolean;
}

type Statement = Database.Statement<unknown[], unknown>;

/**
 * One better-sqlite3 connection behind the {@link SqlDriver} port, plus the synchronous fast path the
 * SQLite event store uses. WAL journal, `synchronous=FULL` by default, `busy_timeout`, writes under
 * `BEGIN IMMEDIATE`, prepared statements cached.
 *
 * @example
 * ```ts
 * const db = openSqlite({ path: './data/app.db' });
 * await db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)');
 * await db.run('INSERT INTO t VALUES (?, ?)', ['a', '1']);
 * await db.close();
 * ```
 */
export class SqliteDatabase implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  /** Keeps this connection's other statements out of its open async transaction. */
  readonly lock = new Mutex();
  /** Serializes writes with this process's other connections to the same file (see `file-locks.ts`). */
  readonly writeLock: Mutex;
  readonly path: string;
  readonly #lockKey: string | null;
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Statement>();
  #closed = false;

  constructor(options: SqliteOptions = {}) {
    this.path = options.path ?? ':memory:';
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isSafeInteger(busy) || busy < 0) {
      throw new InvalidArgumentError('busyTimeoutMs', `${busy} is not a whole number of milliseconds`, 'Pass e.g. busyTimeoutMs: 5000.');
    }
    const sync = options.synchronous ?? 'FULL';
    if (sync !== 'FULL' && sync !== 'NORMAL') {
      throw new InvalidArgumentError('synchronous', `"${String(sync)}" is not FULL or NORMAL`, "Pass synchronous: 'FULL' (durable) or 'NORMAL' (faster).");
    }
    try {
      this.#db = new Database(this.path, { readonly: options.readonly ?? false, timeout: busy });
      if (!options.readonly) this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${sync}`);
      this.#db.pragma('foreign_keys = ON');
    } catch (e) {
      throw toStorageError(e, `Cannot open SQLite database at ${this.path}`);
    }
    const { mutex, key } = acquireFileLock(this.path);
    this.writeLock = mutex;
    this.#lockKey = key;
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `StoreClosedError` after close. */
  assertOpen(what = 'database'): void {
    if (this.#closed) throw new StoreClosedError(what);
  }

  /** A cached prepared statement (the fast path for hot SQL). */
  statement(sql: string): Statement {
    this.assertOpen();
    let stmt = this.#statements.get(sql);
    if (stmt === undefined) {
      try {
        stmt = this.#db.prepare(sql);
      } catch (e) {
        throw toStorageError(e, 'Cannot prepare SQL statement');
      }
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Runs `fn` synchronously inside `BEGIN IMMEDIATE … COMMIT`; rolls back when it throws.
   * The caller must hold {@link lock} (or know it is free) so no async transaction is open.
   */
  writeSync<T>(fn: () => T): T {
    this.assertOpen();
    // Prepared once: `exec` would parse BEGIN and COMMIT again on every append.
    this.#runPrepared('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#runPrepared('COMMIT');
      return result;
    } catch (e) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Rolls back the open transaction, if any (after a failure part-way through a manual transaction). */
  rollbackIfOpen(): void {
    if (!this.#closed && this.#db.inTransaction) this.#db.exec('ROLLBACK');
  }

  /**
   * The port's async calls, run directly on the connection: for code that already holds {@link lock}
   * inside a transaction it opened (waiting for the lock there would deadlock).
   */
  directExecutor(): SqlExecutor {
    return {
      query: async (sql, params) => this.querySync(sql, params),
      run: async (sql, params) => this.runSync(sql, params),
      exec: async (sql) => this.execSync(sql),
    };
  }

  /** Runs a parameter-free statement or script synchronously, wrapping driver errors. */
  execSync(sql: string): void {
    this.assertOpen();
    this.#execRaw(sql);
  }

  /**
   * Registers a deterministic SQL function on this connection (for the engine's own statements: other
   * connections to the file do not see it, so it must never appear in a schema object).
   */
  defineFunction(name: string, fn: (...args: never[]) => unknown): void {
    this.assertOpen();
    this.#db.function(name, { deterministic: true }, fn as (...args: unknown[]) => unknown);
  }

  /** Reads a pragma (e.g. `integrity_check`). */
  pragma(source: string): unknown {
    this.assertOpen();
    return this.#db.pragma(source);
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    const fn = (): R[] => this.querySync<R>(sql, params);
    return this.statement(sql).readonly ? this.outsideTransaction(fn) : this.outsideWrite(fn);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const fn = (): { changes: number } => this.runSync(sql, params);
    return this.statement(sql).readonly ? this.outsideTransaction(fn) : this.outsideWrite(fn);
  }

  async exec(sql: string): Promise<void> {
    return this.outsideWrite(() => this.execSync(sql));
  }

  /** Synchronous `query`; rows of statements that return none come back as `[]`. */
  querySync<R extends object = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): R[] {
    const stmt = this.statement(sql);
    try {
      if (!stmt.reader) {
        stmt.run(...bind(params));
        return [];
      }
      return stmt.all(...bind(params)) as R[];
    } catch (e) {
      throw toStorageError(e, 'SQLite query failed');
    }
  }

  /** Synchronous `run`. */
  runSync(sql: string, params: readonly SqlValue[] = []): { changes: number } {
    const stmt = this.statement(sql);
    try {
      return { changes: stmt.run(...bind(params)).changes };
    } catch (e) {
      throw toStorageError(e, 'SQLite statement failed');
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.exclusive(async () => {
      this.assertOpen();
      this.#runPrepared('BEGIN IMMEDIATE');
      let active = true;
      // Statements through `tx` run inside the transaction; they must not wait for the lock we hold.
      const tx: SqlExecutor = {
        query: async (sql, params) => (check(active), this.querySync(sql, params)),
        run: async (sql, params) => (check(active), this.runSync(sql, params)),
        exec: async (sql) => (check(active), this.execSync(sql)),
      };
      try {
        const result = await fn(tx);
        this.#runPrepared('COMMIT');
        return result;
      } catch (e) {
        if (!this.#closed && this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw e;
      } finally {
        active = false;
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let an open transaction finish first so close never tears one in half.
    await this.lock.runExclusive(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
      releaseFileLock(this.#lockKey);
    });
  }

  /** Runs `fn` now if no async transaction is open, else after it ends (so it never joins that transaction). */
  /**
   * Runs a write now if neither this connection nor another connection of this process to the same file
   * is inside an async transaction, else after they end: SQLite would make it wait for the file lock
   * synchronously, blocking the very event loop that has to finish the other transaction.
   */
  async outsideWrite<T>(fn: () => T | Promise<T>): Promise<T> {
    if (!this.writeLock.locked && !this.lock.locked) {
      this.assertOpen();
      return fn();
    }
    return this.exclusive(async () => {
      this.assertOpen();
      return fn();
    });
  }

  /** Holds the file's write lock, then this connection's lock (always in this order: no deadlock). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.writeLock.runExclusive(() => this.lock.runExclusive(fn));
  }

  async outsideTransaction<T>(fn: () => T): Promise<T> {
    const guarded = (): T => {
      this.assertOpen();
      try {
        return fn();
      } catch (e) {
        throw toStorageError(e, 'SQLite statement failed');
      }
    };
    return this.lock.locked ? this.lock.runExclusive(guarded) : guarded();
  }

  #runPrepared(sql: string): void {
    try {
      this.statement(sql).run();
    } catch (e) {
      throw toStorageError(e, `SQLite ${sql.split(' ')[0] ?? 'statement'} failed`);
    }
  }

  #execRaw(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (e) {
      throw toStorageError(e, `SQLite ${sql.split(' ')[0] ?? 'statement'} failed`);
    }
  }
}

function check(active: boolean): void {
  if (!active) throw new StorageError('A statement was issued on a transaction that already ended', {
    hint: 'Await every statement inside the transaction callback; do not keep the tx object after it returns.',
  });
}

// better-sqlite3 has no boolean type; store booleans as 0/1 like SQLite itself does.
function bind(params: readonly SqlValue[]): readonly unknown[] {
  // SQLite has no booleans; copy the array only when one is there (most statements have none).
  for (const p of params) if (typeof p === 'boolean') return params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
  return params;
}

const RETRYABLE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY']);

/** Wraps a better-sqlite3 error (or passes a Tessera error through). */
export function toStorageError(e: unknown, message: string): Error {
  if (isTesseraError(e)) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  const detail = e instanceof Error ? e.message : String(e);
  const retryable = RETRYABLE_CODES.has(code);
  return new StorageError(`${message}: ${detail}${code ? ` (${code})` : ''}`, {
    cause: e,
    retryable,
    hint: retryable
      ? 'Another process held the database lock longer than busyTimeoutMs; retry, or raise busyTimeoutMs.'
      : code === 'SQLITE_FULL'
        ? 'The disk is full: free space, then retry.'
        : 'Check that the file path exists and is writable, and that the file is a SQLite database.',
  });
}

/**
 * Opens a SQLite database through the SQL port.
 *
 * @example
 * ```ts
 * const db = openSqlite({ path: './data/read-models.db', synchronous: 'NORMAL' });
 * ```
 */
export function openSqlite(options: SqliteOptions = {}): SqliteDatabase {
  return new SqliteDatabase(options);
}
