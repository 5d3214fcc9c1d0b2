import pg from 'pg';
import { InvalidArgumentError, StorageError, StoreClosedError } from '../errors.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import type { SqlDriver, SqlExecutor, SqlValue } from './port.js';
import { indeterminateCommit, isPgConnectionError, toPgStorageError } from './postgres-errors.js';
import { numberPlaceholders } from './postgres-placeholders.js';
import { preparedName, unnameAfter } from './postgres-prepared.js';

/** Options for {@link openPostgres}. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`; required unless `pool` is given. */
  connectionString?: string;
  /** An existing pool to use instead of creating one; `close()` then leaves it open (you own it). */
  pool?: pg.Pool;
  /** Most connections the driver's own pool opens (default 10). */
  maxConnections?: number;
  /** How long connecting (or waiting for a free pooled connection) may take before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Schemas to put on every connection's `search_path` (own pool only), so unqualified names resolve there first. */
  searchPath?: readonly string[];
  /** Shown in `pg_stat_activity` (default `tessera`). */
  applicationName?: string;
}

/**
 * int8 (`bigint`, OID 20) parsed as BigInt: positions and versions are 64-bit. Set on these parsers only,
 * passed with every query, so neither the process-wide `pg.types` nor a caller's pool is changed.
 */
export const PG_TYPES = new pg.TypeOverrides();
PG_TYPES.setTypeParser(20, (v: string) => BigInt(v));

const TRANSLATIONS_CACHE = 1_000;

/** Options of {@link PostgresDatabase.transaction}. */
export interface PgTransactionOptions {
  /**
   * Run the transaction's parameterized INSERT, UPDATE and DELETE statements without RETURNING as named
   * prepared statements, so each pooled connection parses and plans such a text once (a projector applies
   * the same few statements to thousands of events). Other statements run unnamed. Default false.
   */
  prepareWrites?: boolean;
}

/**
 * PostgreSQL behind the {@link SqlDriver} port, on a `pg` Pool. `?` placeholders are numbered `$1…$n`
 * (outside quoted text), int8 comes back as BigInt, every driver error becomes a `StorageError` (retryable
 * for lost connections) and a connection lost during COMMIT becomes an `IndeterminateCommitError`.
 * Connecting never hangs: `connectTimeoutMs` bounds it.
 *
 * @example
 * ```ts
 * const db = openPostgres({ connectionString: 'postgres://postgres@127.0.0.1:5432/app' });
 * await db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, n BIGINT)');
 * await db.run('INSERT INTO t VALUES (?, ?) ON CONFLICT DO NOTHING', ['a', 1n]);
 * const [row] = await db.query<{ n: bigint }>('SELECT n FROM t WHERE k = ?', ['a']);
 * await db.close();
 * ```
 */
export class PostgresDatabase implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  /** The settings new connections use (for a dedicated LISTEN client beside the pool). */
  readonly clientConfig: pg.ClientConfig;
  readonly #ownsPool: boolean;
  readonly #translations = new Map<string, string>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: PostgresOptions) {
    const o = requireOptionsObject(options, 'options') as PostgresOptions;
    const timeout = o.connectTimeoutMs === undefined ? 5_000 : requirePositiveInt(o.connectTimeoutMs, 'connectTimeoutMs');
    if (o.pool !== undefined) {
      if (!(o.pool instanceof pg.Pool)) {
        throw new InvalidArgumentError('pool', 'is not a pg.Pool', 'Pass pool: new pg.Pool({ … }), or a connectionString instead.');
      }
      this.pool = o.pool;
      this.#ownsPool = false;
      this.clientConfig = { ...(o.pool.options as pg.ClientConfig), connectionTimeoutMillis: timeout, keepAlive: true };
      return;
    }
    if (typeof o.connectionString !== 'string' || o.connectionString.length === 0) {
      throw new InvalidArgumentError('connectionString', 'is not a non-empty string', "Pass e.g. connectionString: 'postgres://postgres@127.0.0.1:5432/app'.");
    }
    const max = o.maxConnections === undefined ? 10 : requirePositiveInt(o.maxConnections, 'maxConnections');
    this.clientConfig = {
      connectionString: o.connectionString,
      connectionTimeoutMillis: timeout,
      keepAlive: true,
      application_name: o.applicationName ?? 'tessera',
      ...(o.searchPath && o.searchPath.length > 0 ? { options: `-c search_path=${o.searchPath.map(quoteIdent).join(',')}` } : {}),
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max, idleTimeoutMillis: 10_000 });
    this.#ownsPool = true;
    // An idle pooled connection that dies (server restart, pg_terminate_backend) is dropped by the pool;
    // without a listener its 'error' event would crash the process.
    this.pool.on('error', () => undefined);
  }

  /** True once `close()` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Throws `StoreClosedError` after close. */
  assertOpen(what = 'database'): void {
    if (this.#closed) throw new StoreClosedError(what);
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    return this.#track(async () => {
      const client = await this.#connect();
      let failed: unknown;
      try {
        return await this.#query<R>(client, sql, params);
      } catch (e) {
        failed = e;
        throw e;
      } finally {
        release(client, isPgConnectionError(failed) ? failed : undefined);
      }
    });
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.#track(async () => {
      const client = await this.#connect();
      let failed: unknown;
      try {
        return await this.#run(client, sql, params);
      } catch (e) {
        failed = e;
        throw e;
      } finally {
        release(client, isPgConnectionError(failed) ? failed : undefined);
      }
    });
  }

  async exec(sql: string): Promise<void> {
    await this.query(sql);
  }

  /**
   * Runs `fn` in one transaction on one pooled connection (READ COMMITTED unless `fn` says otherwise).
   * A failure before COMMIT rolls back; a connection lost during COMMIT throws `IndeterminateCommitError`.
   */
  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: PgTransactionOptions): Promise<T> {
    const prepare = options?.prepareWrites === true;
    return this.#track(async () => {
      const client = await this.#connect();
      let active = true;
      let broken: unknown;
      const guard = (): void => {
        if (!active) {
          throw new StorageError('A statement was issued on a transaction that already ended', {
            hint: 'Await every statement inside the transaction callback; do not keep the tx object after it returns.',
          });
        }
      };
      const tx: SqlExecutor = {
        query: async (sql, params) => (guard(), this.#query(client, sql, params ?? [])),
        run: async (sql, params) => (guard(), this.#run(client, sql, params ?? [], prepare)),
        exec: async (sql) => (guard(), void (await this.#query(client, sql, []))),
      };
      try {
        await this.#query(client, 'BEGIN', []);
        let result: T;
        try {
          result = await fn(tx);
        } catch (e) {
          broken = e;
          await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError));
          throw e;
        }
        let committed: pg.QueryResult;
        try {
          committed = await client.query('COMMIT');
        } catch (e) {
          broken = e;
          if (isPgConnectionError(e)) throw indeterminateCommit(e);
          throw toPgStorageError(e, 'PostgreSQL COMMIT failed');
        }
        // COMMIT of a transaction that an earlier (caught) error aborted succeeds as a ROLLBACK: say so.
        if (committed.command === 'ROLLBACK') {
          throw new StorageError('The transaction was rolled back: a statement in it failed earlier (and its error was caught)', {
            hint: 'Let statement errors propagate out of the transaction callback, or use a savepoint around a statement that may fail.',
          });
        }
        return result;
      } catch (e) {
        broken ??= e;
        throw e;
      } finally {
        active = false;
        release(client, isPgConnectionError(broken) ? broken : undefined);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Let running statements and transactions finish so close never tears one in half.
    await Promise.allSettled([...this.#inFlight]);
    if (this.#ownsPool) await this.pool.end().catch(() => undefined);
  }

  /** Checks a connection out of the pool, with an error listener so a connection that dies while held cannot crash the process. */
  async #connect(): Promise<pg.PoolClient> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      if (this.#closed) throw new StoreClosedError('database');
      throw toPgStorageError(e, 'Cannot connect to PostgreSQL');
    }
    client.on('error', ignore);
    return client;
  }

  async #query<R>(client: pg.PoolClient, sql: string, params: readonly SqlValue[]): Promise<R[]> {
    try {
      const res = await client.query({ text: this.#translate(sql), values: params.map(toPgValue), types: PG_TYPES });
      // A parameter-free script of several statements returns one result per statement; keep the last.
      const last = Array.isArray(res) ? (res[res.length - 1] as pg.QueryResult | undefined) : res;
      return (last?.rows ?? []) as R[];
    } catch (e) {
      throw toPgStorageError(e, 'PostgreSQL query failed');
    }
  }

  async #run(client: pg.PoolClient, sql: string, params: readonly SqlValue[], prepare = false): Promise<{ changes: number }> {
    const text = this.#translate(sql);
    const name = prepare ? preparedName(text, params.length) : undefined;
    try {
      const res = await client.query({ text, values: params.map(toPgValue), types: PG_TYPES, ...(name === undefined ? {} : { name }) });
      const last = Array.isArray(res) ? (res[res.length - 1] as pg.QueryResult | undefined) : res;
      return { changes: last?.rowCount ?? 0 };
    } catch (e) {
      if (name !== undefined) unnameAfter(text, e);
      throw toPgStorageError(e, 'PostgreSQL statement failed');
    }
  }

  #translate(sql: string): string {
    let text = this.#translations.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql).text;
      if (this.#translations.size >= TRANSLATIONS_CACHE) this.#translations.clear();
      this.#translations.set(sql, text);
    }
    return text;
  }

  async #track<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const p = fn();
    this.#inFlight.add(p);
    try {
      return await p;
    } finally {
      this.#inFlight.delete(p);
    }
  }
}

function ignore(): void {}

/** Returns a connection to the pool; one whose connection failed is destroyed instead of reused. */
function release(client: pg.PoolClient, error: unknown): void {
  client.removeListener('error', ignore);
  client.release(error instanceof Error ? error : error === undefined ? undefined : true);
}

function toPgValue(v: SqlValue): unknown {
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** Double-quotes an identifier for SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Opens a PostgreSQL database through the SQL port (a pool; nothing connects until the first statement).
 *
 * @example
 * ```ts
 * const db = openPostgres({ connectionString: process.env.DATABASE_URL!, maxConnections: 20 });
 * ```
 */
export function openPostgres(options: PostgresOptions): PostgresDatabase {
  return new PostgresDatabase(options);
}
