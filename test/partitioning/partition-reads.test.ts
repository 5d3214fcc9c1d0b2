import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { readLogPartitions } from '../../src/eventstore/store.js';
import { type EventStore, partitionOf, storeDatabase } from '../../src/index.js';
import { type GroupAdapter, type GroupAdapterFactory, postgresAdapter, sqliteAdapter } from './adapters.js';

/**
 * The database-side partition filter behind consumer groups: for any P and any set of wanted partitions, a
 * partition page holds exactly the events `partitionOf` puts there (the PostgreSQL filter works on the signed
 * 64-bit hash column, so streams whose hash has the top bit set are the interesting half), in log order, and
 * `through` lets a reader checkpoint past events it was not given.
 */
/**
 * On PostgreSQL a transaction still running anywhere on the shared server holds the horizon back (see read.ts):
 * poll until the page is complete up to `newest` rather than trusting one probe.
 */
async function settled(store: EventStore, req: Parameters<typeof readLogPartitions>[1], newest: bigint) {
  for (let i = 0; ; i++) {
    const page = await readLogPartitions(store, req);
    if (page.through === newest || i >= 200) return page;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const STREAMS = Array.from({ length: 120 }, (_, i) => `order-${i}-${(i * 7919) % 1000}`);

for (const make of [sqliteAdapter, postgresAdapter] as GroupAdapterFactory[]) {
  describe(`log partition reads (${make().name})`, () => {
    let adapter: GroupAdapter;
    let store: EventStore;
    afterEach(async () => adapter.cleanup());

    async function seed(): Promise<bigint> {
      adapter = make();
      store = await adapter.openStore();
      for (const [i, s] of STREAMS.entries()) await store.appendToStream(s, [{ type: 'Placed', data: { i } }, { type: 'Paid', data: { i } }]);
      const all = await store.readAll();
      return all[all.length - 1]!.globalPosition;
    }

    it('returns exactly the events of the wanted partitions, in log order, for any P', async () => {
      const newest = await seed();
      const all = await store.readAll();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(1, 2, 3, 7, 8, 13, 64, 4096),
          fc.array(fc.nat(4095), { minLength: 1, maxLength: 6 }),
          async (count, picks) => {
            const wanted = [...new Set(picks.map((p) => p % count))];
            const page = await settled(store, { fromPosition: 1n, maxCount: 10_000, partitionCount: count, partitions: wanted }, newest);
            const expected = all.filter((e) => wanted.includes(partitionOf(e.streamId, count)));
            expect(page.events.map((e) => e.id)).toEqual(expected.map((e) => e.id));
            expect(page.through).toBe(newest);
          },
        ),
        { numRuns: 25 },
      );
    });

    it('a full page ends at its last event; the next page continues from there without a gap', async () => {
      const newest = await seed();
      const wanted = [0, 2, 5];
      const expected = (await store.readAll()).filter((e) => wanted.includes(partitionOf(e.streamId, 8)));
      const seen: string[] = [];
      let from = 1n;
      for (;;) {
        const page = await readLogPartitions(store, { fromPosition: from, maxCount: 7, partitionCount: 8, partitions: wanted });
        seen.push(...page.events.map((e) => e.id));
        if (page.events.length === 7) expect(page.through).toBe(page.events[6]!.globalPosition);
        if (page.through === null) throw new Error('a seeded log has a through');
        if (page.through >= newest) break;
        from = page.through + 1n;
      }
      expect(seen).toEqual(expected.map((e) => e.id));
    });

    it('an empty log has no through; a position past the head reads nothing', async () => {
      adapter = make();
      store = await adapter.openStore();
      expect(await readLogPartitions(store, { fromPosition: 1n, maxCount: 10, partitionCount: 4, partitions: [0, 1, 2, 3] })).toEqual({ events: [], through: null });
      await store.appendToStream('a', [{ type: 'X', data: {} }]);
      const head = (await store.readAll())[0]!.globalPosition;
      const past = await settled(store, { fromPosition: head + 1n, maxCount: 10, partitionCount: 4, partitions: [0, 1, 2, 3] }, head);
      expect(past.events).toEqual([]);
      expect(past.through).toBe(head);
    });
  });
}

describe('log partition reads (PostgreSQL rows stored before the stream hash column)', () => {
  it('returns rows without a hash whatever the partition, so a caller filtering again misses none', async () => {
    const adapter = postgresAdapter();
    try {
      const store = await adapter.openStore();
      for (const s of STREAMS.slice(0, 30)) await store.appendToStream(s, [{ type: 'Placed', data: {} }]);
      await storeDatabase(store).run('UPDATE events SET stream_hash = NULL');
      const all = await store.readAll();
      const page = await settled(store, { fromPosition: 1n, maxCount: 1_000, partitionCount: 8, partitions: [3] }, all[all.length - 1]!.globalPosition);
      expect(page.events.map((e) => e.id)).toEqual(all.map((e) => e.id));
      const mine = page.events.filter((e) => partitionOf(e.streamId, 8) === 3);
      expect(mine.length).toBe(all.filter((e) => partitionOf(e.streamId, 8) === 3).length);
    } finally {
      await adapter.cleanup();
    }
  });
});
