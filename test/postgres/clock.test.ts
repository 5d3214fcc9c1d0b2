import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

describe('PostgreSQL log clock', () => {
  it('keeps the log readable and positions increasing after the schema moves to a cluster with smaller transaction ids', async () => {
    const schema = freshSchemaName('clock');
    schemas.push(schema);
    const first = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    await first.appendToStream('c', [{ type: 'A', data: { n: 1 } }, { type: 'A', data: { n: 2 } }]);
    await first.close();
    // What a logical dump restored elsewhere looks like from here: stored positions far above this cluster's xids.
    const raw = new pg.Client({ connectionString: TEST_PG_URL });
    await raw.connect();
    await raw.query(`UPDATE "${schema}".events SET global_position = global_position + ((1000000000)::bigint << 16)`);
    await raw.end();

    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, readWaitMs: 1_000 });
    try {
      const before = await store.readAll();
      expect(before.map((e) => (e.data as { n: number }).n)).toEqual([1, 2]);
      const last = before[1]!.globalPosition;
      const got: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ fromPosition: last + 1n, pollIntervalMs: 20, handler: (e) => void got.push(e) });
      const r = await store.appendToStream('c', [{ type: 'A', data: { n: 3 } }], { expectedVersion: 2n });
      expect(r.lastGlobalPosition).toBeGreaterThan(last);
      const deadline = Date.now() + 10_000;
      while (got.length < 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      await sub.stop();
      expect(got.map((e) => (e.data as { n: number }).n)).toEqual([3]);
      expect((await store.readAll()).map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
  });
});
