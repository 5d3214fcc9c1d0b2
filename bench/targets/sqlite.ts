import Database from 'better-sqlite3';
import { openSqliteEventStore } from '../../src/eventstore/index.js';
import { pooledUuidV7 } from '../ids.js';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';
import type { RowSpec, Target } from '../types.js';

/** Tessera's SQLite event store on a fresh file. */
export function tesseraSqliteRow(durability: 'FULL' | 'NORMAL'): RowSpec {
  return {
    id: `tessera-sqlite-${durability.toLowerCase()}`,
    label: `Tessera SQLite (${durability})`,
    engine: 'sqlite',
    kind: 'tessera',
    durability,
    skip: durability === 'NORMAL' ? ['d'] : [],
    open: async (): Promise<Target> => {
      const file = tempFile('tessera.db');
      const store = await openSqliteEventStore({ path: file.path, synchronous: durability });
      return {
        appendNew: async (s) => void (await store.appendToStream(s, [{ type: EVENT_TYPE, data: eventData(0) }], { expectedVersion: 'no_stream' })),
        appendExpected: async (s, v) => void (await store.appendToStream(s, [{ type: EVENT_TYPE, data: eventData(Number(v)) }], { expectedVersion: v })),
        appendBatch: async (s, n) =>
          void (await store.appendToStream(s, Array.from({ length: n }, (_, i) => ({ type: EVENT_TYPE, data: eventData(i) })), { expectedVersion: 'no_stream' })),
        read: async (s) => (await store.readStream(s)).length,
        close: async () => {
          await store.close();
          file.remove();
        },
      };
    },
  };
}

/**
 * The raw better-sqlite3 floor: what any event-store append must do, and nothing else. One
 * `BEGIN IMMEDIATE` transaction reads the stream's version, checks it, inserts the event under a unique
 * (stream, version) key with an autoincrement global position, and commits. Same WAL journal and
 * `synchronous` setting as the Tessera row it is compared with. A read fetches the rows and parses the JSON.
 * `turn` waits one event-loop turn (setImmediate) before each single append: what group commit costs a lone
 * caller, so that row with `eventIds` is the floor of Tessera's sequential append (bench/results/floors.md).
 */
export function rawSqliteRow(durability: 'FULL' | 'NORMAL', eventIds = false, turn = false): RowSpec {
  return {
    id: `raw-sqlite-${durability.toLowerCase()}${eventIds ? '-ids' : ''}${turn ? '-turn' : ''}`,
    label: `raw better-sqlite3${eventIds ? ' + unique event id' : ''}${turn ? ' + event-loop turn' : ''} (${durability})`,
    engine: 'sqlite',
    kind: 'raw',
    durability,
    skip: turn ? ['c', 'd', 'e'] : durability === 'NORMAL' || eventIds ? ['d'] : [],
    open: async (): Promise<Target> => {
      const file = tempFile('raw.db');
      const db = openRawSqlite(file.path, durability, eventIds);
      const version = db.prepare('SELECT max(stream_version) AS v FROM events WHERE stream_id = ?').pluck();
      const insert = db.prepare(
        eventIds
          ? 'INSERT INTO events (event_id, stream_id, stream_version, type, data) VALUES (?, ?, ?, ?, ?)'
          : 'INSERT INTO events (stream_id, stream_version, type, data) VALUES (?, ?, ?, ?)',
      );
      const insertEvent = eventIds
        ? (s: string, v: number, data: string | undefined) => insert.run(pooledUuidV7(), s, v, EVENT_TYPE, data)
        : (s: string, v: number, data: string | undefined) => insert.run(s, v, EVENT_TYPE, data);
      const readStream = db.prepare('SELECT global_position, stream_version, type, data FROM events WHERE stream_id = ? ORDER BY stream_version');
      const append = db
        .transaction((streamId: string, expected: number | null, datas: string[]) => {
          const current = (version.get(streamId) as number | null) ?? 0;
          if (expected !== null && current !== expected) throw new Error(`version conflict on ${streamId}`);
          for (let i = 0; i < datas.length; i++) insertEvent(streamId, current + i + 1, datas[i]);
        })
        .immediate;
      return {
        appendNew: async (s) => {
          if (turn) await nextTurn();
          append(s, 0, [JSON.stringify(eventData(0))]);
        },
        appendExpected: async (s, v) => {
          if (turn) await nextTurn();
          append(s, Number(v), [JSON.stringify(eventData(Number(v)))]);
        },
        appendBatch: async (s, n) => append(s, 0, Array.from({ length: n }, (_, i) => JSON.stringify(eventData(i)))),
        read: async (s) => {
          const rows = readStream.all(s) as { data: string }[];
          let n = 0;
          for (const r of rows) if (JSON.parse(r.data) !== null) n++;
          return n;
        },
        close: async () => {
          db.close();
          file.remove();
        },
      };
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A raw database with the keys every event store needs: a unique (stream, version) and an autoincrement
 * global position. `eventIds` adds what Tessera's contract adds on top (idempotent appends): a UUIDv7 per
 * event under a unique index, which shows the floor that extra key sets.
 */
export function openRawSqlite(path: string, durability: 'FULL' | 'NORMAL', eventIds = false): Database.Database {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability}`);
  db.exec(`CREATE TABLE IF NOT EXISTS events (
    global_position INTEGER PRIMARY KEY AUTOINCREMENT,${eventIds ? '\n    event_id TEXT NOT NULL UNIQUE,' : ''}
    stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,
    UNIQUE (stream_id, stream_version))`);
  return db;
}
