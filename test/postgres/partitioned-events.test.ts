import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyError, EventIdConflictError, type EventStore, openPostgresEventStore, RetentionRefusedError, storeDatabase, storeTransaction } from '../../src/index.js';
import { PgPartitionManager, readArchive } from '../../src/partitioning/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const TODAY = Date.UTC(2026, 10, 25);
const day = (offset: number): string => `events_p${new Date(TODAY + offset * DAY).toISOString().slice(0, 10).replaceAll('-', '')}`;

const schemas: string[] = [];
const stores: EventStore[] = [];
const clients: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.end()));
  await dropSchemas(schemas.splice(0));
});

/** A day-partitioned store whose clock the test moves (starting at noon on TODAY). */
async function open(options: { ahead?: number; schema?: string } = {}): Promise<{ store: EventStore; schema: string; clock: { now: number } }> {
  const schema = options.schema ?? freshSchemaName('pev');
  if (!schemas.includes(schema)) schemas.push(schema);
  const clock = { now: TODAY + 12 * 3_600_000 };
  const store = await openPostgresEventStore({
    connectionString: TEST_PG_URL, schema, maxConnections: 4, clock: { now: () => clock.now },
    partitioning: { interval: 'day', ...(options.ahead === undefined ? {} : { ahead: options.ahead }) },
  });
  stores.push(store);
  return { store, schema, clock };
}

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  clients.push(c);
  return c;
}

async function partitionsOf(schema: string): Promise<string[]> {
  const c = await client();
  const { rows } = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [`"${schema}".events`],
  );
  return rows.map((r) => r.name);
}

async function rowsByPartition(schema: string): Promise<Array<[string, string, number]>> {
  const c = await client();
  const { rows } = await c.query<{ part: string; stream_id: string; v: string }>(
    `SELECT tableoid::regclass::text AS part, stream_id, stream_version::text AS v FROM "${schema}".events ORDER BY stream_id, stream_version`,
  );
  return rows.map((r) => [r.part.split('.').pop()!, r.stream_id, Number(r.v)]);
}

describe('PostgreSQL event store on a time-partitioned events table', () => {
  it('creates the current and ahead partitions at open and stores each event in the partition of its time', async () => {
    const { store, schema, clock } = await open({ ahead: 2 });
    expect(await partitionsOf(schema)).toEqual([day(0), day(1), day(2)]);
    await store.appendToStream('a', [{ type: 'T', data: { n: 1 } }, { type: 'T', data: { n: 2 } }], { expectedVersion: 'no_stream' });
    clock.now += DAY;
    await store.appendToStream('a', [{ type: 'T', data: { n: 3 } }], { expectedVersion: 2n });
    clock.now += 2 * DAY + 3_600_000;
    await store.appendToStream('b', [{ type: 'T', data: { n: 4 } }]);
    expect(await rowsByPartition(schema)).toEqual([[day(0), 'a', 1], [day(0), 'a', 2], [day(1), 'a', 3], [day(3), 'b', 1]]);
    // Day 3 had no partition: the append created it and two more after it.
    expect(await partitionsOf(schema)).toEqual([0, 1, 2, 3, 4, 5].map(day));
    expect((await store.readStream('a')).map((e) => [e.streamVersion, (e.data as { n: number }).n, e.recordedAt.getTime()])).toEqual([
      [1n, 1, TODAY + 12 * 3_600_000], [2n, 2, TODAY + 12 * 3_600_000], [3n, 3, TODAY + DAY + 12 * 3_600_000],
    ]);
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['a', 'a', 'a', 'b']);
    // Columns the migrations add later (the stream hash of log partitions) reach every partition, new ones too.
    const c = await client();
    const { rows } = await c.query(`SELECT count(*)::int AS n FROM "${schema}".events WHERE stream_hash IS NULL`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('creates the partition of a far-future clock, and recreates one dropped behind its back (the failed append stored nothing)', async () => {
    const { store, schema, clock } = await open({ ahead: 0 });
    clock.now = Date.UTC(2031, 5, 15, 8);
    await store.appendToStream('f', [{ type: 'T', data: {} }]);
    expect(await partitionsOf(schema)).toEqual([day(0), 'events_p20310615']);
    // The store knows today's partition; dropping it by hand makes the next append fail in PostgreSQL
    // (no partition for the row) once, and succeed after the store recreates it.
    const c = await client();
    await c.query(`ALTER TABLE "${schema}".events DETACH PARTITION "${schema}".${day(0)}; DROP TABLE "${schema}".${day(0)}`);
    clock.now = TODAY + 3_600_000;
    const r = await store.appendToStream('g', [{ type: 'T', data: {} }, { type: 'T', data: {} }]);
    expect(r.nextExpectedVersion).toBe(2n);
    expect(await rowsByPartition(schema)).toEqual([['events_p20310615', 'f', 1], [day(0), 'g', 1], [day(0), 'g', 2]]);
    const { rows } = await c.query(`SELECT stream_id, stream_version::int AS v FROM "${schema}".event_keys ORDER BY 1, 2`);
    expect(rows).toEqual([{ stream_id: 'f', v: 1 }, { stream_id: 'g', v: 1 }, { stream_id: 'g', v: 2 }]);
    // Concurrent appends share group statements: the group fails as a whole, each append is retried.
    await c.query(`ALTER TABLE "${schema}".events DETACH PARTITION "${schema}".${day(0)}; DROP TABLE "${schema}".${day(0)}`);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.appendToStream(`c-${i}`, [{ type: 'T', data: { i } }])));
    expect(results.map((r) => r.nextExpectedVersion)).toEqual(Array.from({ length: 12 }, () => 1n));
    expect((await rowsByPartition(schema)).filter(([part]) => part === day(0))).toHaveLength(12);
  });

  it('appends inside a storeTransaction across intervals, also after a known partition was dropped', async () => {
    const { store, schema, clock } = await open({ ahead: 0 });
    const c = await client();
    await storeTransaction(store, async (tx) => {
      await tx.appendToStream('t', [{ type: 'T', data: { i: 1 } }]);
      clock.now += 5 * DAY; // an interval the store has not seen: created from another connection mid-transaction
      await tx.appendToStream('t', [{ type: 'T', data: { i: 2 } }]);
    });
    expect(await rowsByPartition(schema)).toEqual([[day(0), 't', 1], [day(5), 't', 2]]);
    await c.query(`ALTER TABLE "${schema}".events DETACH PARTITION "${schema}".${day(5)}; DROP TABLE "${schema}".${day(5)}`);
    await storeTransaction(store, async (tx) => {
      clock.now -= 5 * DAY;
      await tx.appendToStream('u', [{ type: 'T', data: {} }]);
      clock.now += 5 * DAY; // known to the store, gone from the table: fails once, recreated, retried
      await tx.appendToStream('u', [{ type: 'T', data: {} }]);
    });
    expect(await rowsByPartition(schema)).toEqual([[day(0), 't', 1], [day(0), 'u', 1], [day(5), 'u', 2]]);
  });

  it('keeps stream versions unique under concurrent appends, and the key table refuses a duplicate in another partition', async () => {
    const { store, schema, clock } = await open({ ahead: 3 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => {
      if (i === 20) clock.now += DAY; // half of them land in the next partition
      return store.appendToStream('hot', [{ type: 'T', data: { i } }]);
    }));
    expect(results.map((r) => r.nextExpectedVersion).sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
    const versions = (await store.readStream('hot')).map((e) => e.streamVersion);
    expect(versions).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
    const c = await client();
    const insert = (version: number, id: string): Promise<unknown> =>
      c.query(`INSERT INTO "${schema}".events (global_position, event_id, stream_id, stream_version, event_type, data, recorded_at)
               VALUES (1, $1, 'hot', $2, 'T', '{}', $3)`, [id, version, new Date(TODAY + 2 * DAY).toISOString()]);
    await expect(insert(1, 'fresh-id')).rejects.toMatchObject({ code: '23505', constraint: 'events_stream_version_key' });
    const [first] = await store.readStream('hot', { maxCount: 1 });
    await expect(insert(41, first!.id)).rejects.toMatchObject({ code: '23505', constraint: 'events_event_id_key' });
    expect((await store.readStream('hot')).length).toBe(40);
  });

  it('recognises event ids across partitions (idempotent retry, conflict in another stream, concurrent first appends)', async () => {
    const { store, clock } = await open({ ahead: 1 });
    const first = await store.appendToStream('s', [{ id: 'evt-1', type: 'T', data: { a: 1 } }]);
    clock.now += 4 * DAY;
    expect(await store.appendToStream('s', [{ id: 'evt-1', type: 'T', data: { a: 1 } }])).toEqual(first);
    await expect(store.appendToStream('other', [{ id: 'evt-1', type: 'T', data: { a: 1 } }])).rejects.toBeInstanceOf(EventIdConflictError);
    const race = await Promise.allSettled([
      store.appendToStream('r1', [{ id: 'evt-2', type: 'T', data: {} }]),
      store.appendToStream('r2', [{ id: 'evt-2', type: 'T', data: {} }]),
    ]);
    expect(race.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(race.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(EventIdConflictError) });
    expect((await store.readAll()).map((e) => e.id).filter((id) => id === 'evt-2')).toHaveLength(1);
  });

  it('retires exactly the expired partition (archive reads back equal), keeps its keys, refuses the current one', async () => {
    const { store, schema, clock } = await open({ ahead: 1 });
    await store.appendToStream('old', [{ type: 'T', data: { n: 1 } }, { id: 'kept-id', type: 'T', data: { n: 2 } }]);
    await store.appendToStream('mixed', [{ type: 'T', data: { n: 1 } }]);
    clock.now += 3 * DAY;
    await store.appendToStream('mixed', [{ type: 'T', data: { n: 2 } }]);
    await store.appendToStream('new', [{ type: 'T', data: { n: 1 } }]);
    const tmp = tempDir('tessera-pev-');
    try {
      const pm = new PgPartitionManager(storeDatabase(store), { schema, clock: { now: () => clock.now } });
      const c = await client();
      const before = await c.query({ text: `SELECT * FROM "${schema}".${day(0)} ORDER BY global_position`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      const path = join(tmp.dir, 'events.jsonl');
      const retired = await pm.applyRetention('events', { olderThanMs: 2 * DAY, action: 'archive', archive: { format: 'jsonl', path } });
      expect(retired.map((r) => [r.partition, r.rows, r.action])).toEqual([[day(0), 3, 'archived']]);
      const [section] = await readArchive(path);
      expect(section).toMatchObject({ partition: day(0), source: `${schema}.events`, complete: true });
      expect(section!.rows).toEqual(before.rows);
      expect(await partitionsOf(schema)).toEqual([day(1), day(3), day(4)]);
      await expect(pm.applyRetention('events', { partitions: [day(3)], action: 'drop' })).rejects.toBeInstanceOf(RetentionRefusedError);
      expect(await partitionsOf(schema)).toEqual([day(1), day(3), day(4)]);

      // A stream read starts at its first kept version; appends go on after the newest one.
      expect((await store.readStream('mixed')).map((e) => e.streamVersion)).toEqual([2n]);
      expect((await store.appendToStream('mixed', [{ type: 'T', data: { n: 3 } }], { expectedVersion: 2n })).nextExpectedVersion).toBe(3n);
      expect(await store.readStream('old')).toEqual([]);
      // The retired events' keys stay: their ids and versions are never stored again.
      const { rows } = await c.query(`SELECT stream_id, stream_version::int AS v FROM "${schema}".event_keys WHERE stream_id = 'old' ORDER BY 2`);
      expect(rows).toEqual([{ stream_id: 'old', v: 1 }, { stream_id: 'old', v: 2 }]);
      await expect(store.appendToStream('elsewhere', [{ id: 'kept-id', type: 'T', data: {} }])).rejects.toMatchObject({ cause: { code: '23505' } });
      // A stream whose every event was retired reads as empty but still exists: it goes on at its next version
      // (heads are looked up in event_keys), and an append that expects a new stream is refused.
      expect(await store.streamExists('old')).toBe(true);
      await expect(store.appendToStream('old', [{ type: 'T', data: {} }], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await store.appendToStream('old', [{ type: 'T', data: {} }], { expectedVersion: 2n })).nextExpectedVersion).toBe(3n);
      expect((await store.readStream('old')).map((e) => e.streamVersion)).toEqual([3n]);
    } finally {
      tmp.remove();
    }
  });
});
