import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AppendHook, openShardedEventStore, type RecordedEvent, type ShardCursor, type ShardedEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(extra: Partial<Parameters<typeof openShardedEventStore>[0]> = {}): Promise<ShardedEventStore> {
  const tmp = tempDir();
  cleanups.push(() => tmp.remove());
  const store = await openShardedEventStore({
    catalog: { kind: 'sqlite', path: join(tmp.dir, 'catalog.db') },
    shards: ['a', 'b', 'c'].map((id) => ({ id, connection: { kind: 'sqlite' as const, path: join(tmp.dir, `${id}.db`) } })),
    ...extra,
  });
  cleanups.push(() => store.close());
  return store;
}

describe('sharded store specifics', () => {
  it('runs inline projections on each shard with merged positions, and scatter-gathers their read models', async () => {
    const seen: RecordedEvent[] = [];
    const totals: AppendHook = {
      name: 'order-totals',
      setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS order_totals (order_id TEXT PRIMARY KEY, total INTEGER NOT NULL)'),
      apply: async (events, tx) => {
        seen.push(...events);
        for (const e of events) {
          await tx.run('INSERT INTO order_totals (order_id, total) VALUES (?, ?) ON CONFLICT (order_id) DO UPDATE SET total = order_totals.total + excluded.total', [e.streamId, (e.data as { amount: number }).amount]);
        }
      },
    };
    const store = await open({ appendHooks: [totals] });
    for (let i = 0; i < 30; i++) await store.appendToStream(`order-${i % 10}`, [{ type: 'Charged', data: { amount: i } }]);
    const all = await store.readAll();
    for (const e of all) expect(seen.find((s) => s.id === e.id)).toEqual(e);
    const { rows } = await store.query<{ n: number; revenue: number; top: number }>({
      table: 'order_totals',
      aggregates: [{ fn: 'count', as: 'n' }, { fn: 'sum', column: 'total', as: 'revenue' }, { fn: 'max', column: 'total', as: 'top' }],
    });
    expect(rows).toEqual([{ n: 10, revenue: 435, top: 9 + 19 + 29 }]);
    const top3 = await store.query({ table: 'order_totals', orderBy: [{ column: 'total', direction: 'desc' }], limit: 3 });
    expect(top3.rows.map((r) => r.order_id)).toEqual(['order-9', 'order-8', 'order-7']);
  });

  it('routes by a shard key taken from the stream id: one tenant, one shard', async () => {
    const store = await open({ shardKey: (id) => id.split(':')[0]! });
    for (let i = 0; i < 12; i++) await store.appendToStream(`tenant-7:order-${i}`, [{ type: 'E', data: {} }]);
    const shards = new Set((await store.readAll()).map((e) => e.globalPosition % 1024n));
    expect(shards.size).toBe(1);
  });

  it('a per-shard cursor reads the merged log page by page without loss or repeat', async () => {
    const store = await open();
    for (let i = 0; i < 25; i++) await store.appendToStream(`c-${i % 7}`, [{ type: 'E', data: { i } }]);
    let cursor: ShardCursor = {};
    const got: number[] = [];
    for (;;) {
      const page = await store.readAllFrom(cursor, { maxCount: 4 });
      if (page.events.length === 0) break;
      got.push(...page.events.map((e) => (e.data as { i: number }).i));
      cursor = page.cursor;
      if (got.length === 20) for (let i = 25; i < 30; i++) await store.appendToStream(`c-${i % 7}`, [{ type: 'E', data: { i } }]);
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Object.keys(cursor).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('two handles writing at once', () => {
  it('a subscription delivers every event of both handles exactly once, per-stream order kept', { timeout: 60_000 }, async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const opts = {
      catalog: { kind: 'sqlite' as const, path: join(tmp.dir, 'catalog.db') },
      shards: ['a', 'b', 'c'].map((id) => ({ id, connection: { kind: 'sqlite' as const, path: join(tmp.dir, `${id}.db`) } })),
    };
    const one = await openShardedEventStore(opts);
    const two = await openShardedEventStore(opts);
    cleanups.push(() => one.close(), () => two.close());
    const got: RecordedEvent[] = [];
    const sub = one.subscribeToAll({ pollIntervalMs: 5, batchSize: 7, handler: (e) => void got.push(e) });
    // Handle two's clock lags handle one's, so it keeps committing positions below ones already delivered.
    await Promise.all(
      [one, two].map(async (store, h) => {
        for (let i = 0; i < 60; i++) await store.appendToStream(`h${h}-s${i % 6}`, [{ type: 'E', data: { h, i } }]);
      }),
    );
    const all = await one.readAll();
    expect(all).toHaveLength(120);
    const deadline = Date.now() + 20_000;
    while (got.length < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await sub.stop();
    expect(got).toHaveLength(120);
    expect(new Set(got.map((e) => e.id))).toEqual(new Set(all.map((e) => e.id)));
    for (let h = 0; h < 2; h++) {
      for (let s = 0; s < 6; s++) {
        const stream = got.filter((e) => e.streamId === `h${h}-s${s}`).map((e) => e.streamVersion);
        expect(stream).toEqual(stream.map((_, i) => BigInt(i + 1)));
      }
    }
  });
});
