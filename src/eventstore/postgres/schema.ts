import { InvalidArgumentError } from '../../errors.js';
import type { Migration } from '../../storage/migrations.js';
import { describe } from '../../support/validate.js';
import { appendFunctionSql, type HeadTable } from './append-function.js';
import { appendGroupFunctionSql } from './append-group-function.js';

/** Default schema of the PostgreSQL event store. */
export const DEFAULT_PG_SCHEMA = 'tessera';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/i;

/**
 * The schema name is interpolated into SQL (identifiers cannot be bound parameters), so only plain
 * identifiers are accepted; they are folded to lower case like PostgreSQL folds unquoted names.
 */
export function validateSchemaName(schema: unknown): string {
  if (schema === undefined) return DEFAULT_PG_SCHEMA;
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(
      'schema',
      `${describe(schema)} is not a plain identifier (letters, digits, underscores; 1–63 characters; not starting with a digit)`,
      "Pass a schema name such as 'tessera' or 'orders_events'.",
    );
  }
  return schema.toLowerCase();
}

/** The events table's columns after `global_position`, shared by the plain and the time-partitioned layout. */
export const EVENT_COLUMNS_DDL = `
          event_id        text        NOT NULL,
          stream_id       text        NOT NULL,
          stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
          event_type      text        NOT NULL,
          data            jsonb       NOT NULL,
          metadata        jsonb,
          schema_version  integer     NOT NULL DEFAULT 1,
          recorded_at     timestamptz NOT NULL`;

/**
 * Global positions come from the writing transaction's id (see `read.ts`):
 * `global_position = (xid8 << 16) + index of the event in its transaction`. Appends lock one stream only
 * (see `append.ts`), so writers to different streams never wait for each other;
 * `UNIQUE (stream_id, stream_version)` stays as the last line of defence.
 */
export function eventStoreMigrations(schema: string, head: HeadTable = 'events'): Migration[] {
  const s = `"${schema}"`;
  return [
    {
      version: 1,
      name: 'events and snapshots',
      sql: `
        CREATE TABLE IF NOT EXISTS ${s}.events (
          global_position bigint      PRIMARY KEY,
          ${EVENT_COLUMNS_DDL},
          CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
          CONSTRAINT events_event_id_key UNIQUE (event_id)
        );
        CREATE INDEX IF NOT EXISTS events_type_position ON ${s}.events (event_type, global_position);
        CREATE TABLE IF NOT EXISTS ${s}.snapshots (
          stream_id      text    NOT NULL,
          name           text    NOT NULL,
          schema_version integer NOT NULL,
          version        bigint  NOT NULL,
          state          jsonb   NOT NULL,
          PRIMARY KEY (stream_id, name)
        );
        -- The log clock's offset added to transaction ids (see syncLogClock in clock.ts).
        CREATE TABLE IF NOT EXISTS ${s}.log_clock (
          id         boolean PRIMARY KEY DEFAULT true CHECK (id),
          xid_offset bigint  NOT NULL
        );
        INSERT INTO ${s}.log_clock (id, xid_offset) VALUES (true, 0) ON CONFLICT DO NOTHING;
      `,
    },
    { version: 2, name: 'one-statement append function', sql: appendFunctionSql(s, head) },
    { version: 3, name: 'group append function', sql: appendGroupFunctionSql(s, head) },
    {
      version: 4,
      name: 'stream hash for log partitions',
      // Rows written before this migration keep a NULL hash; partition reads return them and callers filter.
      sql: `
        ALTER TABLE ${s}.events ADD COLUMN IF NOT EXISTS stream_hash bigint;
        DROP FUNCTION IF EXISTS ${s}.append_events(text, text, text, text[], text[], text[], text[], int[], timestamptz, bigint);
        DROP FUNCTION IF EXISTS ${s}.append_events_group(text[], text[], text[], int[], timestamptz[], text[], text[], text[], text[], int[], bigint);
        ${appendFunctionSql(s, head)}
        ${appendGroupFunctionSql(s, head)}`,
    },
  ];
}

/** The migrations bookkeeping table of a schema. */
export function migrationsTable(schema: string): string {
  return `"${schema}".migrations`;
}

/** LISTEN/NOTIFY channel of a schema (channel names are limited to 63 bytes). */
export function notifyChannel(schema: string): string {
  return `tessera_${schema}`.slice(0, 63);
}

const COLUMNS =
  'global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at';

/**
 * The log partition of a row from its signed 64-bit stream hash, as `bucketOf` computes it from the
 * unsigned one: `h mod P` when h ≥ 0, else `(h + 2^64) mod P`, computed as `((h rem P) + P + (2^64 mod P)) mod P`
 * (`%` truncates toward zero, so `h rem P` is in (-P, 0]). Four parameters, see {@link partitionParams}.
 */
function partitionSql(column: string): string {
  return `(CASE WHEN ${column} >= 0 THEN ${column} % ?::bigint ELSE ((${column} % ?::bigint) + ?::bigint) % ?::bigint END)::int`;
}

/** The parameters of {@link partitionSql} for P partitions: P, P, P + (2^64 mod P), P. */
export function partitionParams(count: number): bigint[] {
  const p = BigInt(count);
  return [p, p, p + (2n ** 64n % p), p];
}

/** Every statement of the engine for one schema; values are always bound parameters. */
export function statements(schema: string, xidOffset = 0n, head: HeadTable = 'events') {
  const s = `"${schema}"`;
  // A bigint from our own clock table, never user input: safe to write into the SQL text.
  const off = BigInt.asIntN(64, xidOffset).toString();
  /**
   * One statement, so one snapshot: the horizon, the highest committed position, and the page of events
   * below the horizon (from `?`, at most `?`, with `filter`). The outer row exists even when the page is empty.
   */
  const pageBelowHorizon = (filter: string): string => `
      WITH h AS MATERIALIZED (
        SELECT ((pg_snapshot_xmin(pg_current_snapshot())::text::bigint + ${off}) << 16) AS horizon,
               (SELECT max(global_position) FROM ${s}.events) AS newest
      )
      SELECT h.horizon, h.newest, e.* FROM h LEFT JOIN LATERAL (
        SELECT ${COLUMNS} FROM ${s}.events
        WHERE global_position >= ? AND global_position < h.horizon ${filter}
        ORDER BY global_position ASC LIMIT ?
      ) e ON true
      ORDER BY e.global_position ASC`;
  return {
    /**
     * A transaction-scoped lock on one stream (keyed by a 64-bit hash of schema and stream id). An advisory
     * lock, unlike a row lock, does not give the transaction an id, so the id is assigned after the lock.
     */
    lockStream: 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0))',
    /**
     * Read after the lock (a new statement, so a new snapshot that sees the previous holder's commit): the
     * stream's last version and position, this transaction's id, and its next free position (earlier
     * appends of the same transaction used the first ones).
     */
    streamHead: `SELECT x.xid, coalesce(
        (SELECT max(e.global_position) + 1 FROM ${s}.events e WHERE e.global_position >= x.xid << 16 AND e.global_position < (x.xid + 1) << 16),
        x.xid << 16) AS next_position, h.stream_version AS version, h.global_position AS last_position
      FROM (SELECT pg_current_xact_id()::text::bigint + ${off} AS xid) x
      LEFT JOIN LATERAL (SELECT stream_version, global_position FROM ${s}.${head} WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1) h ON true`,
    byEventIds: `SELECT global_position, event_id, stream_id, stream_version, event_type, data
      FROM ${s}.events WHERE event_id = ANY(?::text[])`,
    insert: `WITH ins AS (
        INSERT INTO ${s}.events (${COLUMNS}, stream_hash)
        SELECT ?::bigint + (e.ord - 1), e.id, ?, ? + e.ord, e.type, e.data::jsonb, e.meta::jsonb, e.sv, ?::timestamptz, ?::bigint
        FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int[]) WITH ORDINALITY AS e(id, type, data, meta, sv, ord)
        RETURNING global_position
      )
      SELECT min(global_position) AS first, max(global_position) AS last FROM ins`,
    /** The one-statement append (see `append-function.ts`); sent straight to `pg`, so numbered placeholders. */
    appendEvents: `SELECT first_position, last_position, next_version
      FROM ${s}.append_events($1, $2, $3, $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::timestamptz, $10::bigint, $11::bigint)`,
    /** Several appends in one statement (see `append-group-function.ts`); numbered placeholders too. */
    appendEventsGroup: `SELECT first_position, last_position, next_version, actual_version
      FROM ${s}.append_events_group($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::bigint, $12::bigint[])`,
    notify: 'SELECT pg_notify(?, ?)',
    readByIds: `SELECT ${COLUMNS} FROM ${s}.events WHERE event_id = ANY(?::text[])`,
    maxStreamVersion: `SELECT coalesce(max(stream_version), 0) AS version FROM ${s}.${head} WHERE stream_id = ?`,
    streamVersion: `SELECT stream_version AS version FROM ${s}.${head} WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1`,
    readForward: `SELECT ${COLUMNS} FROM ${s}.events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?`,
    readBackward: `SELECT ${COLUMNS} FROM ${s}.events WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT ?`,
    /**
     * One statement, so one snapshot: the horizon, the highest committed position, and the page of events
     * below the horizon. The outer row exists even when the page is empty.
     */
    readAll: (withTypes: boolean) => pageBelowHorizon(withTypes ? 'AND event_type = ANY(?::text[])' : ''),
    /**
     * `readAll` of some log partitions (see `partitionSql`): the same horizon, and only rows whose stream hash
     * falls in a wanted partition, or whose hash predates migration 4 (NULL; the caller filters those).
     */
    readPartitions: pageBelowHorizon(`AND (stream_hash IS NULL OR ${partitionSql('stream_hash')} = ANY(?::int[]))`),
    readSnapshot: `SELECT schema_version, version, state FROM ${s}.snapshots WHERE stream_id = ? AND name = ?`,
    writeSnapshot: `INSERT INTO ${s}.snapshots AS sn (stream_id, name, schema_version, version, state) VALUES (?, ?, ?, ?, ?::jsonb)
      ON CONFLICT (stream_id, name) DO UPDATE SET schema_version = excluded.schema_version, version = excluded.version, state = excluded.state
      WHERE excluded.schema_version <> sn.schema_version OR excluded.version > sn.version`,
  } as const;
}

export type PgStatements = ReturnType<typeof statements>;
