import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

// A PL/pgSQL function takes its parameters' collation from the call. The saga engine's batch statement passes
// stream ids next to lock keys built from current_schema() (a `name`, collation "C"); before the head lookup named
// its collation, every append from there scanned the whole events table (throughput fell as the log grew).
describe('append_events_group under a caller collation of "C" (PostgreSQL)', () => {
  it('finds stream heads through the (stream_id, stream_version) index, not a sequential scan', async () => {
    const schema = freshSchemaName('coll');
    schemas.push(schema);
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.appendToStream(`s-${i}`, [{ type: 'Seeded', data: { i } }])));
    await store.close();

    const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path="${schema}"` });
    await client.connect();
    try {
      const scans = async (): Promise<bigint> => {
        await client.query('SELECT pg_stat_force_next_flush()');
        const r = await client.query<{ seq: string }>(`SELECT seq_scan::text AS seq FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'events'`, [schema]);
        return BigInt(r.rows[0]?.seq ?? '0');
      };
      const before = await scans();
      const streams = ['s-1', 's-2', 's-3', 'new-stream'];
      const { rows } = await client.query<{ next_version: string; actual_version: string | null }>(
        `SELECT next_version::text, actual_version::text FROM append_events_group(
           ARRAY(SELECT current_schema() || ':' || s FROM unnest($1::text[]) AS s), $1::text[] COLLATE "C",
           array_fill('stream_exists'::text, ARRAY[4]), array_fill(1, ARRAY[4]), array_fill(now(), ARRAY[4]),
           ARRAY(SELECT gen_random_uuid()::text FROM generate_series(1, 4)), array_fill('Next'::text, ARRAY[4]),
           array_fill('{}'::text, ARRAY[4]), array_fill(NULL::text, ARRAY[4]), array_fill(1, ARRAY[4]),
           (SELECT xid_offset FROM log_clock))`,
        [streams],
      );
      // The three seeded streams move to version 2; the new one fails its stream_exists check alone.
      expect(rows.map((r) => [r.next_version, r.actual_version])).toEqual([['2', null], ['2', null], ['2', null], [null, '0']]);
      expect(await scans()).toBe(before);
    } finally {
      await client.end();
    }
  });
});
