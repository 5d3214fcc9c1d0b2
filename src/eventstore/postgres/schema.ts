import { InvalidArgumentError } from '../../errors.js';
import type { Migration } from '../../storage/migrations.js';
import { describe } from '../../support/validate.js';

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

/**
 * Global positions come from the writing transaction's id (see {@link ./read.ts}):
 * `global_position = (xid8 << 16) + index of the event in its transaction`. The `streams` table holds one
 * row per stream, locked by each append to that stream only, so writers to different streams never wait
 * for each other; `UNIQUE (stream_id, stream_version)` stays as the last line of defence.
 */
export function eventStoreMigrations(schema: string): Migration[] {
  const s = `"${schema}"`;
  return [
    {
      version: 1,
      name: 'events, streams and snapshots',
      sql: `
        CREATE TABLE IF NOT EXISTS ${s}.events (
          global_position bigint      PRIMARY KEY,
          event_id        text        NOT NULL,
          stream_id       text        NOT NULL,
          stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
          event_type      text        NOT NULL,
          data            jsonb       NOT NULL,
          metadata        jsonb,
          schema_version  integer     NOT NULL DEFAULT 1,
          recorded_at     timestamptz NOT NULL,
          CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
          CONSTRAINT events_event_id_key UNIQUE (event_id)
        );
        CREATE INDEX IF NOT EXISTS events_type_position ON ${s}.events (event_type, global_position);
        CREATE TABLE IF NOT EXISTS ${s}.streams (
          stream_id text   PRIMARY KEY,
          version   bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${s}.snapshots (
          stream_id      text    NOT NULL,
          name           text    NOT NULL,
          schema_version integer NOT NULL,
          version        bigint  NOT NULL,
          state          jsonb   NOT NULL,
          PRIMARY KEY (stream_id, name)
        );
      `,
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

/** Every statement of the engine for one schema; values are always bound parameters. */
export function statements(schema: string) {
  const s = `"${schema}"`;
  return {
    /**
     * Locks the stream's row (creating it at version 0) and returns its version, this transaction's id and
     * the next free position of this transaction (earlier appends of the same transaction used the first ones).
     */
    lockStream: `INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (?, 0)
      ON CONFLICT (stream_id) DO UPDATE SET version = st.version
      RETURNING st.version, pg_current_xact_id()::text::bigint AS xid, coalesce(
        (SELECT max(e.global_position) + 1 FROM ${s}.events e, (SELECT pg_current_xact_id()::text::bigint AS xid) x
         WHERE e.global_position >= x.xid << 16 AND e.global_position < (x.xid + 1) << 16),
        pg_current_xact_id()::text::bigint << 16) AS next_position`,
    byEventIds: `SELECT global_position, event_id, stream_id, stream_version, event_type, data
      FROM ${s}.events WHERE event_id = ANY(?::text[])`,
    insert: `WITH ins AS (
        INSERT INTO ${s}.events (${COLUMNS})
        SELECT ?::bigint + (e.ord - 1), e.id, ?, ? + e.ord, e.type, e.data::jsonb, e.meta::jsonb, e.sv, ?::timestamptz
        FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int[]) WITH ORDINALITY AS e(id, type, data, meta, sv, ord)
        RETURNING global_position
      ), upd AS (
        UPDATE ${s}.streams SET version = ? WHERE stream_id = ?
      )
      SELECT min(global_position) AS first, max(global_position) AS last FROM ins`,
    notify: 'SELECT pg_notify(?, ?)',
    readByIds: `SELECT ${COLUMNS} FROM ${s}.events WHERE event_id = ANY(?::text[])`,
    maxStreamVersion: `SELECT coalesce(max(stream_version), 0) AS version FROM ${s}.events WHERE stream_id = ?`,
    streamVersion: `SELECT version FROM ${s}.streams WHERE stream_id = ?`,
    readForward: `SELECT ${COLUMNS} FROM ${s}.events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?`,
    readBackward: `SELECT ${COLUMNS} FROM ${s}.events WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT ?`,
    /**
     * One statement, so one snapshot: the horizon, the highest committed position, and the page of events
     * below the horizon. The outer row exists even when the page is empty.
     */
    readAll: (withTypes: boolean) => `
      WITH h AS MATERIALIZED (
        SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16) AS horizon,
               (SELECT max(global_position) FROM ${s}.events) AS newest
      )
      SELECT h.horizon, h.newest, e.* FROM h LEFT JOIN LATERAL (
        SELECT ${COLUMNS} FROM ${s}.events
        WHERE global_position >= ? AND global_position < h.horizon${withTypes ? ' AND event_type = ANY(?::text[])' : ''}
        ORDER BY global_position ASC LIMIT ?
      ) e ON true
      ORDER BY e.global_position ASC`,
    readSnapshot: `SELECT schema_version, version, state FROM ${s}.snapshots WHERE stream_id = ? AND name = ?`,
    writeSnapshot: `INSERT INTO ${s}.snapshots AS sn (stream_id, name, schema_version, version, state) VALUES (?, ?, ?, ?, ?::jsonb)
      ON CONFLICT (stream_id, name) DO UPDATE SET schema_version = excluded.schema_version, version = excluded.version, state = excluded.state
      WHERE excluded.schema_version <> sn.schema_version OR excluded.version > sn.version`,
  } as const;
}

export type PgStatements = ReturnType<typeof statements>;
