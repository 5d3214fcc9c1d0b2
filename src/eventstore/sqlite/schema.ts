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

/** Every statement of the hot path, written once. */
export const SQL = {
  streamVersion: 'SELECT stream_version FROM tessera_events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1',
  insert:
    'INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  /** `n` events in one statement: fewer calls into SQLite for big batches; rowids stay consecutive. */
  insertMany: (n: number) =>
    `INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES ${new Array(n).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
  byEventId: 'SELECT global_position, stream_id, stream_version, event_type, data FROM tessera_events WHERE event_id = ?',
  readForward: `SELECT ${STREAM_COLUMNS} FROM tessera_events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?`,
  readBackward: `SELECT ${STREAM_COLUMNS} FROM tessera_events WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version DESC LIMIT ?`,
  readAll: `SELECT ${COLUMNS} FROM tessera_events WHERE global_position >= ? ORDER BY global_position ASC LIMIT ?`,
  readAllTypes: (n: number) =>
    `SELECT ${COLUMNS} FROM tessera_events WHERE global_position >= ? AND event_type IN (${new Array(n).fill('?').join(', ')}) ORDER BY global_position ASC LIMIT ?`,
  byEventIds: (n: number) =>
    `SELECT ${COLUMNS} FROM tessera_events WHERE event_id IN (${new Array(n).fill('?').join(', ')}) ORDER BY global_position`,
  readSnapshot: 'SELECT schema_version, version, state FROM tessera_snapshots WHERE stream_id = ? AND name = ?',
  writeSnapshot: `INSERT INTO tessera_snapshots (stream_id, name, schema_version, version, state) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (stream_id, name) DO UPDATE SET schema_version = excluded.schema_version, version = excluded.version, state = excluded.state
    WHERE excluded.schema_version <> tessera_snapshots.schema_version OR excluded.version > tessera_snapshots.version`,
} as const;
