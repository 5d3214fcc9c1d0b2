import type pg from 'pg';
import { InvalidArgumentError } from '../../errors.js';
import { runMigrations } from '../../storage/migrations.js';
import { PostgresDatabase, type PostgresOptions } from '../../storage/postgres.js';
import { requireOptionsObject, requirePositiveInt } from '../../support/validate.js';
import { type CommonStoreOptions, resolveAppendHooks, resolveCommonOptions } from '../options.js';
import { TesseraEventStore } from '../store.js';
import type { EventStore } from '../types.js';
import { type PgBackendConfig, PostgresEventStoreBackend } from './backend.js';
import { syncLogClock } from './clock.js';
import { EventPartitions, PartitionedPostgresBackend } from './partitioned-backend.js';
import { eventsPartitioning, type PostgresEventsPartitioning, prepareEventsTable, requireEventsPartitioning } from './partitioned-schema.js';
import { eventStoreMigrations, migrationsTable, validateSchemaName } from './schema.js';

/** Options of {@link openPostgresEventStore}. */
export interface PostgresEventStoreOptions extends CommonStoreOptions {
  /** `postgres://user:password@host:port/database`; required unless `pool` is given. */
  connectionString?: string;
  /** Schema holding the store's tables (default `tessera`); created if missing. A plain identifier. */
  schema?: string;
  /** An existing `pg.Pool` to share; the store then leaves it open on close. */
  pool?: pg.Pool;
  /** Most connections of the store's own pool (default 10), plus one for LISTEN once a subscription runs. */
  maxConnections?: number;
  /** Bound on connecting, and on waiting for a free pooled connection (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long `readAll` may wait for transactions still running on the server so that events committed
   * before the call are included (default 5000 ms); see the gap-safe log notes in `read.ts`.
   */
  readWaitMs?: number;
  /**
   * Creates the events table partitioned by time (`recorded_at`, UTC), so old events can be retired a
   * partition at a time (`PgPartitionManager.applyRetention('events', …)`; see docs/partitioning.md). Only
   * when the schema has no events table yet; a store created this way keeps it, with or without the option.
   * Opening a store created without it, or with another interval, throws `EventsPartitioningMismatchError`.
   */
  partitioning?: PostgresEventsPartitioning;
}

/**
 * Opens (and creates or migrates) a PostgreSQL event store in `schema`. Several processes may open the
 * same schema at once; creation and migrations are serialized by advisory locks. Failing to connect
 * (unreachable server, wrong credentials, missing database) throws a `StorageError` with a hint within
 * `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * import { openPostgresEventStore } from 'tessera';
 * const store = await openPostgresEventStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/app', schema: 'orders' });
 * await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: { total: 42 } }], { expectedVersion: 'no_stream' });
 * const all = await store.readAll({ maxCount: 100 });
 * await store.close();
 * ```
 */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const o = requireOptionsObject(options, 'options') as PostgresEventStoreOptions;
  const common = resolveCommonOptions(o);
  const hooks = resolveAppendHooks(o.appendHooks);
  const schema = validateSchemaName(o.schema);
  const readWaitMs = o.readWaitMs === undefined ? 5_000 : requirePositiveInt(o.readWaitMs, 'readWaitMs');
  const partitioningWanted = requireEventsPartitioning(o.partitioning);
  if (o.pool === undefined && o.connectionString === undefined) {
    throw new InvalidArgumentError('connectionString', 'is missing', "Pass connectionString: 'postgres://user@host:5432/database', or pool.");
  }
  const driverOptions: PostgresOptions = { searchPath: [schema, 'public'] };
  if (o.connectionString !== undefined) driverOptions.connectionString = o.connectionString;
  if (o.pool !== undefined) driverOptions.pool = o.pool;
  if (o.maxConnections !== undefined) driverOptions.maxConnections = o.maxConnections;
  if (o.connectTimeoutMs !== undefined) driverOptions.connectTimeoutMs = o.connectTimeoutMs;
  const db = new PostgresDatabase(driverOptions);
  let xidOffset: bigint;
  let partitions: EventPartitions | null = null;
  try {
    await ensureSchema(db, schema);
    await prepareEventsTable(db, schema, partitioningWanted);
    // Known before the migrations, which write the append functions' head lookups for the layout.
    const layout = await eventsPartitioning(db, schema, partitioningWanted);
    await runMigrations(db, migrationsTable(schema), eventStoreMigrations(schema, layout === null ? 'events' : 'event_keys'));
    const partitioning = await eventsPartitioning(db, schema, partitioningWanted);
    if (partitioning !== null) {
      partitions = new EventPartitions(db, schema, partitioning);
      await partitions.ensure(common.clock.now());
    }
    xidOffset = await syncLogClock(db, schema);
    for (const hook of hooks) if (hook.setup) await db.transaction((tx) => hook.setup!(tx));
  } catch (e) {
    await db.close();
    throw e;
  }
  const config: PgBackendConfig = { schema, hooks, readWaitMs, random: common.random, xidOffset, headTable: partitions === null ? 'events' : 'event_keys' };
  const backend = partitions === null ? new PostgresEventStoreBackend(db, config) : new PartitionedPostgresBackend(db, config, partitions);
  return new TesseraEventStore({ ...common, sql: db, backend });
}

/**
 * Creates the schema if missing. `CREATE SCHEMA IF NOT EXISTS` alone fails with a unique violation when two
 * processes run it at the same moment, so it runs under a transaction-scoped advisory lock per schema, and
 * only when the schema is absent (so a user without CREATE on the database can open an existing schema).
 */
async function ensureSchema(db: PostgresDatabase, schema: string): Promise<void> {
  const exists = async (): Promise<boolean> =>
    (await db.query('SELECT 1 FROM pg_namespace WHERE nspname = ?', [schema])).length > 0;
  if (await exists()) return;
  await db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('tessera.schema:' || ?))", [schema]);
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  });
}
