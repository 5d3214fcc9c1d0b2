import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL global log under commit reordering', () => {
  it('readers never pass an event that commits later at a lower position', async () => {
    const schema = freshSchemaName('reorder');
    schemas.push(schema);
    // A hook that sleeps a random time inside each append's transaction: transactions commit far out of
    // the order of their ids (and positions), the situation a naive sequence-ordered log gets wrong.
    const store = await openPostgresEventStore({
      connectionString: TEST_PG_URL,
      schema,
      maxConnections: 12,
      appendHooks: [{ name: 'jitter', apply: async () => void (await sleep(Math.random() * 40)) }],
    });
    try {
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ pollIntervalMs: 5, handler: (e) => void seen.push(e) });
      let writing = true;
      let polls = 0;
      // A second reader: every readAll must extend the previous one, never slip an event in before its end.
      const poller = (async () => {
        let previous: string[] = [];
        while (writing) {
          const ids = (await store.readAll()).map((e) => e.id);
          expect(ids.slice(0, previous.length)).toEqual(previous);
          previous = ids;
          polls++;
          await sleep(3);
        }
      })();
      const writers = Array.from({ length: 10 }, async (_, w) => {
        for (let i = 0; i < 15; i++) await store.appendToStream(`r-${(w + i) % 5}`, [{ id: `w${w}-${i}`, type: 'R', data: { w, i } }]);
      });
      await Promise.all(writers);
      writing = false;
      await poller;
      const all = await store.readAll();
      expect(all).toHaveLength(150);
      const deadline = Date.now() + 15_000;
      while (seen.length < all.length && Date.now() < deadline) await sleep(10);
      await sub.stop();
      expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
      expect(polls).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});
