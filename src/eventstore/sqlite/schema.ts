import type { Migration } from '../../storage/migrations.js';

/**
 * The SQLite event store's tables. `global_position` is an AUTOINCREMENT rowid: strictly increasing and
 * never reused, even if old events are archived away. SQLite has one writer at a time, so positions
 * become visible in commit order and the global log has no in-flight gaps to guard against.
 */
export const SQLITE_EVENTSTORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events and snapshots',
    sql: `
      CREATE TABLE IF NOT EXISTS tessera_events (
        global_position INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        TEXT    NOT NULL,
        stream_id       TEXT    NOT NULL,
        stream_version  INTEGER NOT NULL CHECK (stream_version >= 1),
        event_type      TEXT    NOT NULL,
        data            TEXT    NOT NULL,
        metadata        TEXT,
        schema_version  INTEGER NOT NULL DEFAULT 1,
        recorded_at     INTEGER NOT NULL
      );
      -- The last line of defence behind the version check: two events can never share a stream version.
      CREATE UNIQUE INDEX IF NOT EXISTS tessera_events_stream ON tessera_events (stream_id, stream_version);
      -- Idempotent appends: an event id is stored once.
      CREATE UNIQUE INDEX IF NOT EXISTS tessera_events_id ON tessera_events (event_id);
      CREATE TABLE IF NOT EXISTS tessera_snapshots (
        stream_id      TEXT    NOT NULL,
        name           TEXT    NOT NULL,
        schema_version INTEGER NOT NULL,
        version        INTEGER NOT NULL,
        state          TEXT    NOT NULL,
        PRIMARY KEY (stream_id, name)
      );
    `,
  },
];

export const SQLITE_MIGRATIONS_TABLE = 'tessera_migrations';

const COLUMNS =
  'global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at';
// Reads of one stream know its id: the same layout without building that string again for every row.
const STREAM_COLUMNS = 'global_position, event_id, NULL, stream_version, event_type, data, metadata, schema_version, recorded_at';
/**
 * The same layout as one JSON array text per row. `data` and `metadata` are stored as JSON text, so they are
 * spliced in as they are, and one JSON.parse per row builds the whole event: fewer values cross from SQLite
 * into JavaScript (bench/profile/read-ab.ts).
 */
const jsonRow = (streamId: string): string =>
  `'[' || global_position || ',' || json_quote(event_id) || ',' || ${streamId} || ',' || stream_version || ',' || ` +
  `json_quote(event_type) || ',' || data || ',' || coalesce(metadata, 'null') || ',' || schema_version || ',' || recorded_at || ']'`;
const JSON_ROW = jsonRow('json_quote(stream_id)');
const STREAM_JSON_ROW = jsonRow("'null'");

/** A read as one JSON text per row, and as columns for the rows that text cannot carry exactly (int64 past 2^53). */
export interface EventQuery {
  json: string;
  columns: string;
}
const query = (columns: string, json: string, rest: string): EventQuery => ({
  json: `SELECT ${json} FROM tessera_events ${rest}`,
  columns: `SELECT ${columns} FROM tessera_events ${rest}`,
});
const streamQuery = (rest: string): EventQuery => query(STREAM_COLUMNS, STREAM_JSON_ROW, rest);
const allQuery = (rest: string): EventQuery => query(COLUMNS, JSON_ROW, rest);
const params = (n: number): string => new Array(n).fill('?').join(', ');

/** Every statement of the hot path, written once. */
export const SQL = {
  streamVersion: 'SELECT stream_version FROM tessera_events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1',
  insert:
    'INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** `n` events in one statement: fewer calls into SQLite for big batches; rowids stay consecutive. */
  insertMany: (n: number) =>
    `INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES ${new Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  byEventId: 'SELECT global_position, stream_id, stream_version, event_type, data FROM tessera_events WHERE event_id = ?',
  readForward: streamQuery('WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?'),
  readBackward: streamQuery('WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT ?'),
  readAll: allQuery('WHERE global_position >= ? ORDER BY global_position ASC LIMIT ?'),
  readAllTypes: (n: number) => allQuery(`WHERE global_position >= ? AND event_type IN (${params(n)}) ORDER BY global_position ASC LIMIT ?`),
  newestPosition: 'SELECT max(global_position) FROM tessera_events',
  /** `tessera_partition` is registered on the connection by the backend (xxHash64 of the stream id mod P). */
  readPartitions: allQuery(
    'WHERE global_position >= ? AND global_position <= ? AND tessera_partition(stream_id, ?) IN (SELECT value FROM json_each(?)) ORDER BY global_position ASC LIMIT ?',
  ),
  byEventIds: (n: number) => allQuery(`WHERE event_id IN (${params(n)}) ORDER BY global_position`),
  readSnapshot: 'SELECT schema_version, version, state FROM tessera_snapshots WHERE stream_id = ? AND name = ?',
  writeSnapshot: `INSERT INTO tessera_snapshots (stream_id, name, schema_version, version, state) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (stream_id, name) DO UPDATE SET schema_version = excluded.schema_version, version = excluded.version, state = excluded.state
    WHERE excluded.schema_version <> tessera_snapshots.schema_version OR excluded.version > tessera_snapshots.version`,
} as const;
