import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore, type EventStore } from '../../src/index.js';
import { readPages, type PageQuery } from '../../src/cli/pages.js';

// Small pages so every query crosses several page boundaries.
const PAGE = 4;

describe('CLI paged reads', () => {
  let store: EventStore;
  // 30 events over two streams, alternating types A/B: positions 1..30, a: odd positions, b: even ones.
  beforeAll(async () => {
    store = await openSqliteEventStore();
    for (let i = 1; i <= 30; i++) {
      await store.appendToStream(i % 2 ? 'a' : 'b', [{ type: i % 3 === 0 ? 'B' : 'A', data: { i } }]);
    }
  });
  afterAll(() => store.close());

  const positions = async (q: PageQuery) => {
    const out: number[] = [];
    for await (const page of readPages(store, { ...q, pageSize: PAGE })) {
      expect(page.length).toBeGreaterThan(0);
      out.push(...page.map((e) => Number(e.globalPosition)));
    }
    return out;
  };
  const range = (from: number, to: number, step = 1) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, k) => from + k * step);

  it('reads the global log forward, from a position, limited and filtered', async () => {
    expect(await positions({})).toEqual(range(1, 30));
    expect(await positions({ from: 27n })).toEqual([27, 28, 29, 30]);
    expect(await positions({ max: 6 })).toEqual(range(1, 6));
    expect(await positions({ types: ['B'], max: 5 })).toEqual([3, 6, 9, 12, 15]);
  });

  it('reads the global log backward, from an upper bound, limited and filtered', async () => {
    expect(await positions({ backward: true })).toEqual(range(1, 30).reverse());
    expect(await positions({ backward: true, max: 9 })).toEqual(range(22, 30).reverse());
    expect(await positions({ backward: true, from: 10n })).toEqual(range(1, 10).reverse());
    expect(await positions({ backward: true, types: ['B'] })).toEqual(range(3, 30, 3).reverse());
    expect(await positions({ backward: true, types: ['B'], from: 20n, max: 3 })).toEqual([18, 15, 12]);
  });

  it('reads one stream both ways, by version, filtered by type', async () => {
    expect(await positions({ streamId: 'a' })).toEqual(range(1, 29, 2));
    expect(await positions({ streamId: 'a', from: 13n })).toEqual([25, 27, 29]);
    expect(await positions({ streamId: 'a', backward: true, max: 5 })).toEqual([29, 27, 25, 23, 21]);
    expect(await positions({ streamId: 'a', backward: true, from: 3n })).toEqual([5, 3, 1]);
    expect(await positions({ streamId: 'b', types: ['B'], max: 3 })).toEqual([6, 12, 18]);
    expect(await positions({ streamId: 'missing' })).toEqual([]);
  });
});
