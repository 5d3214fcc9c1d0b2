import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ConcurrencyError, type EventStore, openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('PostgreSQL live subscriptions', () => {
  it('wake on NOTIFY from another handle, also after their LISTEN connection was terminated', async () => {
    const schema = freshSchemaName('listen');
    schemas.push(schema);
    const stores: EventStore[] = [];
    try {
      const reader = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
      const writer = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
      stores.push(reader, writer);
      const seen: RecordedEvent[] = [];
      // A poll interval far beyond the test's bounds: only a notification can deliver in time.
      const sub = reader.subscribeToAll({ pollIntervalMs: 600_000, handler: (e) => void seen.push(e) });
      const listening = async () =>
        admin(async (c) => (await c.query('SELECT pid FROM pg_stat_activity WHERE query = $1', [`LISTEN "tessera_${schema}"`])).rows as { pid: number }[]);
      for (let i = 0; i < 200 && (await listening()).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      await writer.appendToStream('n', [{ type: 'A', data: { i: 1 } }]);
      await until(() => seen.length === 1, 15_000);

      const [listener] = await listening();
      expect(listener).toBeDefined();
      await admin((c) => c.query('SELECT pg_terminate_backend($1)', [listener!.pid]));
      // The listener reconnects (and wakes the subscription once, in case it missed a notification).
      for (let i = 0; i < 200; i++) {
        const now = await listening();
        if (now.length > 0 && now[0]!.pid !== listener!.pid) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      await writer.appendToStream('n', [{ type: 'A', data: { i: 2 } }]);
      await until(() => seen.length === 2, 15_000);
      await sub.stop();
      expect(seen.map((e) => e.streamVersion)).toEqual([1n, 2n]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('turns a unique-key violation from a writer that bypassed the stream lock into ConcurrencyError with the stored version', async () => {
    const schema = freshSchemaName('uniq');
    schemas.push(schema);
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    const raw = new pg.Client({ connectionString: TEST_PG_URL });
    await raw.connect();
    try {
      await raw.query('BEGIN');
      await raw.query(
        `INSERT INTO "${schema}".events (global_position, event_id, stream_id, stream_version, event_type, data, recorded_at)
         VALUES (pg_current_xact_id()::text::bigint << 16, 'rogue', 'u', 1, 'Rogue', '{}', now())`,
      );
      // The store's append takes the stream lock (the rogue writer did not), sees version 0, and its insert
      // waits on the unique index for the rogue transaction.
      const append = store.appendToStream('u', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 200));
      await raw.query('COMMIT');
      const err = await append;
      expect(err).toBeInstanceOf(ConcurrencyError);
      expect(err).toMatchObject({ streamId: 'u', actual: 1n });
      expect((await store.readStream('u')).map((e) => e.id)).toEqual(['rogue']);
    } finally {
      await raw.end();
      await store.close();
    }
  });
});
