import { addIntervals, intervalStart } from '../../partitioning/intervals.js';
import { PgPartitionManager } from '../../partitioning/pg-partitions.js';
import { describePgError } from '../../storage/postgres-errors.js';
import type { PostgresDatabase } from '../../storage/postgres.js';
import type { SqlDriver, SqlValue } from '../../storage/port.js';
import type { AppendRequest, BackendTransaction } from '../backend.js';
import type { AppendResult } from '../types.js';
import { type PgBackendConfig, PostgresEventStoreBackend } from './backend.js';
import type { EventsPartitioning } from './partitioned-schema.js';

/**
 * How long creating a partition may wait for a lock. An append inside a `storeTransaction` that already
 * wrote events waits for the creation, which runs on another connection: should that creation queue behind
 * a lock that waits for the transaction (a retention run detaching a partition), nothing would detect the
 * cycle. The timeout ends it with a retryable error.
 */
const LOCK_TIMEOUT_MS = 5_000;

/**
 * True for PostgreSQL's "no partition of relation … found for row": a check violation that names no
 * constraint (the message itself depends on the server's language).
 */
export function isMissingPartition(e: unknown): boolean {
  const { code, constraint } = describePgError(e);
  return code === '23514' && constraint === '';
}

/**
 * Keeps the partitions of a partitioned events table ready for appends. It remembers which intervals it has
 * seen created; an append in an interval it does not know first creates that partition and `ahead` more
 * (through {@link PgPartitionManager.ensureTimePartitions}, which attaches them without blocking reads and
 * writes). An append that still finds no partition (one was dropped by hand, another process's clock) is
 * retried once after creating it: the failed statement stored nothing.
 */
export class EventPartitions {
  readonly #known = new Set<number>();
  readonly #pending = new Map<number, Promise<void>>();
  readonly #db: SqlDriver;

  constructor(
    db: SqlDriver,
    private readonly schema: string,
    private readonly settings: EventsPartitioning,
  ) {
    this.#db = withLockTimeout(db, LOCK_TIMEOUT_MS);
  }

  /** Creates (if missing) the partition holding `at` and the `ahead` ones after it. */
  ensure(at: number): Promise<void> {
    const start = intervalStart(at, this.settings.interval);
    let pending = this.#pending.get(start);
    if (pending === undefined) {
      pending = this.#create(at, start).finally(() => this.#pending.delete(start));
      this.#pending.set(start, pending);
    }
    return pending;
  }

  async #create(at: number, start: number): Promise<void> {
    const { interval, ahead } = this.settings;
    const pm = new PgPartitionManager(this.#db, { schema: this.schema, clock: { now: () => at } });
    await pm.ensureTimePartitions('events', { interval, ahead });
    for (let i = 0; i <= ahead; i++) this.#known.add(addIntervals(start, interval, i));
  }

  /** Runs an append whose events are recorded at `at`, with its partition in place. */
  async around<T>(at: number, append: () => Promise<T>): Promise<T> {
    const start = intervalStart(at, this.settings.interval);
    if (!this.#known.has(start)) await this.ensure(at);
    try {
      return await append();
    } catch (e) {
      if (!isMissingPartition(e)) throw e;
      this.#known.delete(start);
      await this.ensure(at);
      return append();
    }
  }
}

/** The PostgreSQL engine on a partitioned events table: every append goes through {@link EventPartitions}. */
export class PartitionedPostgresBackend extends PostgresEventStoreBackend {
  constructor(
    db: PostgresDatabase,
    config: PgBackendConfig,
    private readonly partitions: EventPartitions,
  ) {
    super(db, config);
  }

  override append(request: AppendRequest): Promise<AppendResult> {
    return this.partitions.around(request.recordedAt, () => super.append(request));
  }

  override transaction<T>(fn: (tx: BackendTransaction) => Promise<T>): Promise<T> {
    return super.transaction((tx) => fn({ ...tx, append: (request) => this.partitions.around(request.recordedAt, () => tx.append(request)) }));
  }
}

/** The driver with a lock timeout on each of its transactions (the partition manager works in those). */
function withLockTimeout(db: SqlDriver, ms: number): SqlDriver {
  return {
    dialect: db.dialect,
    query: <R extends object>(sql: string, params?: readonly SqlValue[]) => db.query<R>(sql, params),
    run: (sql, params) => db.run(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL lock_timeout = ${ms}`);
        return fn(tx);
      }),
    close: async () => {},
  };
}
