import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { EventsPartitioningMismatchError, type EventStore, InvalidArgumentError, openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
const stores: EventStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await dropSchemas(schemas.splice(0));
});

function fresh(): string {
  const schema = freshSchemaName('pevo');
  schemas.push(schema);
  return schema;
}

async function open(schema: string, partitioning?: unknown): Promise<EventStore> {
  const store = await openPostgresEventStore({
    connectionString: TEST_PG_URL, schema, maxConnections: 3, ...(partitioning === undefined ? {} : { partitioning: partitioning as never }),
  });
  stores.push(store);
  return store;
}

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Relations, functions and applied migrations of a schema (what "nothing changed" compares). */
async function catalog(schema: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    `SELECT c.relkind::text || ':' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
     UNION ALL SELECT 'f:' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
    [schema],
  );
  const migrations = await sql<{ v: string }>(`SELECT version::text AS v FROM "${schema}".migrations ORDER BY version`);
  return [...rows.map((r) => r.name), ...migrations.map((m) => `migration ${m.v}`)];
}

describe('openPostgresEventStore partitioning option', () => {
  it.each([
    ['day', 'partitioning'],
    [{}, 'partitioning.interval'],
    [{ interval: 'year' }, 'partitioning.interval'],
    [{ interval: 'hour' }, 'partitioning.interval'],
    [{ interval: 'day', ahead: -1 }, 'partitioning.ahead'],
    [{ interval: 'day', ahead: 1.5 }, 'partitioning.ahead'],
    [{ interval: 'week', ahead: 101 }, 'partitioning.ahead'],
  ])('refuses %j with InvalidArgumentError (%s) before connecting', async (partitioning, argument) => {
    const schema = fresh();
    const error = await open(schema, partitioning).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ argument });
    expect(await sql(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema])).toEqual([]);
  });

  it('refuses to partition an existing plain store, and another interval on a partitioned one, changing nothing', async () => {
    const plain = fresh();
    await (await open(plain)).appendToStream('s', [{ type: 'T', data: {} }]);
    const plainBefore = await catalog(plain);
    const e1 = await open(plain, { interval: 'day' }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(EventsPartitioningMismatchError);
    expect(e1).toMatchObject({ code: 'EVENTS_PARTITIONING_MISMATCH', stored: 'not partitioned', requested: 'partitioning by day' });
    expect((e1 as Error & { hint: string }).hint).toMatch(/new schema with partitioning/);
    expect(await catalog(plain)).toEqual(plainBefore);

    const monthly = fresh();
    await open(monthly, { interval: 'month' });
    const monthlyBefore = await catalog(monthly);
    const e2 = await open(monthly, { interval: 'week' }).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'EVENTS_PARTITIONING_MISMATCH', stored: 'partitioned by month', requested: 'partitioning by week' });
    expect(await catalog(monthly)).toEqual(monthlyBefore);
  });

  it('opens a partitioned store without the option with its stored settings, and keeps adding partitions', async () => {
    const schema = fresh();
    await open(schema, { interval: 'week', ahead: 1 });
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, maxConnections: 3, clock: { now: () => Date.UTC(2030, 0, 9, 10) } });
    stores.push(store);
    await store.appendToStream('w', [{ type: 'T', data: {} }]);
    const parts = await sql<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [`"${schema}".events`]);
    // 2030-01-09 is a Wednesday: its week starts on Monday the 7th; one more week ahead.
    expect(parts.map((p) => p.name).filter((n) => n.startsWith('events_p2030'))).toEqual(['events_p20300107', 'events_p20300114']);
  });

  it('refuses an events table someone else partitioned (no recorded settings), with or without the option', async () => {
    const schema = fresh();
    await sql(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".events (recorded_at timestamptz NOT NULL) PARTITION BY RANGE (recorded_at)`);
    for (const partitioning of [{ interval: 'day' }, undefined]) {
      const e = await open(schema, partitioning).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'EVENTS_PARTITIONING_MISMATCH', stored: 'partitioned, but not by Tessera' });
    }
  });

  it('creates one layout when several processes open a new schema at once', async () => {
    const schema = fresh();
    const opened = await Promise.all(Array.from({ length: 4 }, () => open(schema, { interval: 'day' })));
    await Promise.all(opened.map((s, i) => s.appendToStream(`s-${i}`, [{ type: 'T', data: { i } }])));
    const [kind] = await sql<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = $1::regclass`, [`"${schema}".events`]);
    expect(kind!.relkind).toBe('p');
    expect((await opened[0]!.readAll()).length).toBe(4);
  });
});

