import { EventsPartitioningMismatchError, InvalidArgumentError } from '../../errors.js';
import { requireInterval, type TimeInterval } from '../../partitioning/intervals.js';
import type { SqlDriver, SqlExecutor } from '../../storage/port.js';
import { requireOptionsObject } from '../../support/validate.js';
import { EVENT_COLUMNS_DDL, migrationsTable } from './schema.js';

/**
 * The time-partitioned layout of the PostgreSQL event store's `events` table (opt-in, chosen when the
 * store is created):
 * - `events` is `PARTITION BY RANGE (recorded_at)`, with the columns of migration 1. PostgreSQL requires the
 *   partition column in every unique key, so its primary key is `(global_position, recorded_at)` and its
 *   lookups by stream and by event id use plain indexes;
 * - `event_keys (stream_id, stream_version, event_id, global_position)` is a plain table that carries the
 *   two global uniqueness guarantees, under the constraint names the append path maps
 *   (`events_stream_version_key`, `events_event_id_key`). A row trigger on `events` fills it in the
 *   inserting statement, so the append functions and the multi-statement path are the same for both
 *   layouts, and a duplicate fails the append with the same error. Retiring a partition leaves its key
 *   rows: a stream version or event id is never stored twice;
 * - `events_partitioning` records the interval, so a store opened without the option still maintains it.
 * Everything else (snapshots, log clock, functions, later columns and indexes) comes from the migrations,
 * which run afterwards and skip the table they find.
 * @module
 */

/**
 * Interval of an events partition: `'day'`, `'week'` (from Monday) or `'month'`, in UTC.
 * @example
 * ```ts
 * const interval: EventsPartitionInterval = 'week';
 * ```
 */
export type EventsPartitionInterval = Exclude<TimeInterval, 'hour'>;

/**
 * The `partitioning` option of `openPostgresEventStore`.
 * @example
 * ```ts
 * const partitioning: PostgresEventsPartitioning = { interval: 'month', ahead: 2 };
 * ```
 */
export interface PostgresEventsPartitioning {
  /** Range of one partition of `events` by `recorded_at`, UTC. */
  interval: EventsPartitionInterval;
  /** Partitions kept ready after the current one (default 3, at most 100). */
  ahead?: number;
}

/** A checked `partitioning` option, or what a partitioned store recorded. */
export interface EventsPartitioning {
  interval: EventsPartitionInterval;
  ahead: number;
}

const MAX_AHEAD = 100;

/** Checks the `partitioning` option before anything connects; `null` when it is left out. */
export function requireEventsPartitioning(value: unknown): EventsPartitioning | null {
  if (value === undefined) return null;
  const o = requireOptionsObject(value, 'partitioning') as Partial<PostgresEventsPartitioning>;
  const interval = requireInterval(o.interval, 'partitioning.interval');
  if (interval === 'hour') {
    // Hours would attach thousands of partitions, and every read of the log or of a stream probes each one.
    throw new InvalidArgumentError('partitioning.interval', '"hour" is too short for an events table', "Pass interval: 'day', 'week' or 'month'.");
  }
  const ahead = o.ahead ?? 3;
  if (!Number.isSafeInteger(ahead) || ahead < 0 || ahead > MAX_AHEAD) {
    throw new InvalidArgumentError('partitioning.ahead', `${String(ahead)} is not a whole number from 0 to ${MAX_AHEAD}`, 'Pass ahead: 3 (partitions kept ready after the current one).');
  }
  return { interval, ahead };
}

/** The layout, in one script (run in one transaction). */
function layoutSql(schema: string, p: EventsPartitioning): string {
  const s = `"${schema}"`;
  return `
    CREATE TABLE ${s}.events (
      global_position bigint      NOT NULL,${EVENT_COLUMNS_DDL},
      PRIMARY KEY (global_position, recorded_at)
    ) PARTITION BY RANGE (recorded_at);
    CREATE INDEX events_stream ON ${s}.events (stream_id, stream_version);
    CREATE INDEX events_event_id ON ${s}.events (event_id);
    CREATE TABLE ${s}.event_keys (
      stream_id       text   NOT NULL,
      stream_version  bigint NOT NULL,
      event_id        text   NOT NULL,
      global_position bigint NOT NULL,
      CONSTRAINT events_stream_version_key PRIMARY KEY (stream_id, stream_version),
      CONSTRAINT events_event_id_key UNIQUE (event_id)
    );
    CREATE FUNCTION ${s}.event_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      INSERT INTO ${s}.event_keys (stream_id, stream_version, event_id, global_position)
        VALUES (NEW.stream_id, NEW.stream_version, NEW.event_id, NEW.global_position);
      RETURN NEW;
    END
    $fn$;
    CREATE TRIGGER event_keys_insert BEFORE INSERT ON ${s}.events FOR EACH ROW EXECUTE FUNCTION ${s}.event_keys_insert();
    CREATE TABLE ${s}.events_partitioning (
      id       boolean PRIMARY KEY DEFAULT true CHECK (id),
      interval text    NOT NULL,
      ahead    integer NOT NULL
    );
    INSERT INTO ${s}.events_partitioning (interval, ahead) VALUES ('${p.interval}', ${p.ahead});`;
}

/** How the schema's events table is laid out now. */
type Layout = { kind: 'absent' } | { kind: 'plain' } | { kind: 'partitioned'; stored: EventsPartitioning | null };

async function inspect(tx: SqlExecutor, schema: string): Promise<Layout> {
  const [row] = await tx.query<{ kind: string; settings: string | null }>(
    `SELECT c.relkind AS kind, to_regclass(format('%I.events_partitioning', n.nspname))::text AS settings
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = 'events'`,
    [schema],
  );
  if (row === undefined) return { kind: 'absent' };
  if (row.kind !== 'p') return { kind: 'plain' };
  if (row.settings === null) return { kind: 'partitioned', stored: null };
  const [s] = await tx.query<{ interval: string; ahead: number }>(`SELECT interval, ahead FROM "${schema}".events_partitioning`);
  const interval = s?.interval;
  return { kind: 'partitioned', stored: interval === 'day' || interval === 'week' || interval === 'month' ? { interval, ahead: Number(s!.ahead) } : null };
}

/** The settings a store runs with on this layout, or the mismatch error. */
function settle(schema: string, layout: Layout, requested: EventsPartitioning | null): EventsPartitioning | null {
  const asked = requested === null ? 'no partitioning' : `partitioning by ${requested.interval}`;
  if (layout.kind === 'plain') {
    if (requested !== null) throw new EventsPartitioningMismatchError(schema, 'not partitioned', asked);
    return null;
  }
  if (layout.kind === 'absent') return requested;
  const stored = layout.stored;
  if (stored === null) throw new EventsPartitioningMismatchError(schema, 'partitioned, but not by Tessera', asked);
  if (requested !== null && requested.interval !== stored.interval) throw new EventsPartitioningMismatchError(schema, `partitioned by ${stored.interval}`, asked);
  return requested ?? stored;
}

/**
 * Before the migrations: creates the partitioned layout when `requested` and the schema has no events
 * table yet, or checks that an existing table matches (throwing {@link EventsPartitioningMismatchError}
 * before anything changes). Runs under the migrations' advisory lock, so concurrent openers see one layout.
 */
export async function prepareEventsTable(db: SqlDriver, schema: string, requested: EventsPartitioning | null): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', [migrationsTable(schema)]);
    const layout = await inspect(tx, schema);
    settle(schema, layout, requested);
    if (layout.kind === 'absent' && requested !== null) await tx.exec(layoutSql(schema, requested));
  });
}

/**
 * After the migrations: the partitioning the store runs with (`null` for a plain table). Read again because
 * another process may have created the table between {@link prepareEventsTable} and the migrations.
 */
export async function eventsPartitioning(db: SqlDriver, schema: string, requested: EventsPartitioning | null): Promise<EventsPartitioning | null> {
  return settle(schema, await inspect(db, schema), requested);
}
