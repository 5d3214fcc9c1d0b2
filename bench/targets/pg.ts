import pg from 'pg';
import * as tessera from '../../src/eventstore/index.js';
import type { EventStore } from '../../src/eventstore/index.js';
import { EVENT_TYPE, eventData } from '../payload.js';
import type { RowSpec, Target } from '../types.js';
import { freshDatabase } from './pg-admin.js';

type OpenPg = (o: { connectionString: string; schema?: string }) => Promise<EventStore>;

/** The PostgreSQL adapter is written in parallel: use it as soon as the package root exports it. */
export function tesseraPgOpener(): OpenPg | null {
  const open = (tessera as Record<string, unknown>).openPostgresEventStore;
  return typeof open === 'function' ? (open as OpenPg) : null;
}

/** Tessera's PostgreSQL event store on a fresh database. */
export function tesseraPgRow(unavailable?: string): RowSpec {
  const open = tesseraPgOpener();
  const reason = unavailable ?? (open === null ? 'n/a (adapter not yet available)' : undefined);
  return {
    id: 'tessera-pg',
    label: 'Tessera PG',
    engine: 'postgres',
    kind: 'tessera',
    ...(reason ? { unavailable: reason } : {}),
    open: async (): Promise<Target> => {
      const db = await freshDatabase('tessera');
      const store = await open!({ connectionString: db.connectionString, schema: db.schema });
      return {
        appendNew: async (s) => void (await store.appendToStream(s, [{ type: EVENT_TYPE, data: eventData(0) }], { expectedVersion: 'no_stream' })),
        appendExpected: async (s, v) => void (await store.appendToStream(s, [{ type: EVENT_TYPE, data: eventData(Number(v)) }], { expectedVersion: v })),
        appendBatch: async (s, n) =>
          void (await store.appendToStream(s, Array.from({ length: n }, (_, i) => ({ type: EVENT_TYPE, data: eventData(i) })), { expectedVersion: 'no_stream' })),
        read: async (s) => (await store.readStream(s)).length,
        close: async () => {
          await store.close();
          await db.drop();
        },
      };
    },
  };
}

export const RAW_PG_SCHEMA = `CREATE TABLE IF NOT EXISTS events (
  global_position BIGSERIAL PRIMARY KEY,
  stream_id TEXT NOT NULL, stream_version BIGINT NOT NULL, type TEXT NOT NULL, data JSONB NOT NULL,
  UNIQUE (stream_id, stream_version))`;

/**
 * The raw pg floor: BEGIN; SELECT max(stream_version); INSERT; COMMIT on a table with the same keys
 * (a pool of up to 10 connections, so concurrent writers each get one). A batch is one multi-row INSERT.
 */
export function rawPgRow(unavailable?: string): RowSpec {
  return {
    id: 'raw-pg',
    label: 'raw pg',
    engine: 'postgres',
    kind: 'raw',
    ...(unavailable ? { unavailable } : {}),
    open: async (): Promise<Target> => {
      const db = await freshDatabase('raw');
      const pool = new pg.Pool({ connectionString: db.connectionString, max: 10 });
      await pool.query(RAW_PG_SCHEMA);
      const append = async (streamId: string, expected: number | null, datas: string[]): Promise<void> => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const r = await client.query<{ v: string | null }>('SELECT max(stream_version) AS v FROM events WHERE stream_id = $1', [streamId]);
          const current = Number(r.rows[0]?.v ?? 0);
          if (expected !== null && current !== expected) throw new Error(`version conflict on ${streamId}`);
          const values = datas.map((_, i) => `($1, $${i * 2 + 2}, '${EVENT_TYPE}', $${i * 2 + 3})`).join(', ');
          const params: unknown[] = [streamId];
          datas.forEach((d, i) => params.push(current + i + 1, d));
          await client.query(`INSERT INTO events (stream_id, stream_version, type, data) VALUES ${values}`, params);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        } finally {
          client.release();
        }
      };
      return {
        appendNew: (s) => append(s, 0, [JSON.stringify(eventData(0))]),
        appendExpected: (s, v) => append(s, Number(v), [JSON.stringify(eventData(Number(v)))]),
        appendBatch: (s, n) => append(s, 0, Array.from({ length: n }, (_, i) => JSON.stringify(eventData(i)))),
        read: async (s) =>
          (await pool.query('SELECT global_position, stream_version, type, data FROM events WHERE stream_id = $1 ORDER BY stream_version', [s])).rows.length,
        close: async () => {
          await pool.end();
          await db.drop();
        },
      };
    },
  };
}
