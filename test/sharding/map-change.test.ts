import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addShard, applyShardMap, InvalidShardMapError, openShardCatalog, openShardedEventStore, pinKey, planMoveSlots, type ShardedEventStore,
  StaleShardMapError,
} from '../../src/index.js';
import { openSqlite } from '../../src/storage/sqlite.js';
import { tempDir } from '../support/tmp.js';

const tmps: Array<{ remove(): void }> = [];
const stores: ShardedEventStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const t of tmps.splice(0)) t.remove();
});

async function setup(ids = ['a', 'b', 'c']) {
  const tmp = tempDir();
  tmps.push(tmp);
  const catalog = { kind: 'sqlite' as const, path: join(tmp.dir, 'catalog.db') };
  const shardPath = (id: string) => join(tmp.dir, `${id}.db`);
  const open = async (retryAttempts?: number) => {
    const s = await openShardedEventStore({
      catalog,
      shards: ids.map((id) => ({ id, connection: { kind: 'sqlite' as const, path: shardPath(id) } })),
      ...(retryAttempts ? { retryAttempts } : {}),
    });
    stores.push(s);
    return s;
  };
  return { tmp, catalog, shardPath, open };
}

/** Event ids stored on one shard file (read straight from its database). */
async function idsOn(path: string): Promise<string[]> {
  const db = openSqlite({ path });
  try {
    return (await db.query<{ event_id: string }>('SELECT event_id FROM tessera_events ORDER BY global_position')).map((r) => r.event_id);
  } finally {
    await db.close();
  }
}

describe('catalog: epoch and compare-and-set', () => {
  it('refuses a change planned from an old epoch, and a map that breaks a rule', async () => {
    const { catalog: conn, open } = await setup();
    await open();
    const catalog = await openShardCatalog(conn);
    try {
      const state = (await catalog.load())!;
      expect(state.map.epoch).toBe(1);
      const next = planMoveSlots(state.map, [0], 'b');
      await catalog.compareAndSet(1, next);
      await expect(catalog.compareAndSet(1, { ...next, epoch: 2 })).rejects.toBeInstanceOf(StaleShardMapError);
      await expect(catalog.compareAndSet(1, { ...next, epoch: 2 })).rejects.toMatchObject({ code: 'STALE_SHARD_MAP', actualEpoch: 2 });
      await expect(catalog.compareAndSet(2, { ...next, epoch: 3, shards: [] })).rejects.toBeInstanceOf(InvalidShardMapError);
      expect(await catalog.epoch()).toBe(2);
    } finally {
      await catalog.close();
    }
  });
});

describe('stale map', () => {
  it('a router with an old epoch writing after its slot moved is refused, retries to the new owner, nothing lands on the old one', async () => {
    const { catalog: conn, open, shardPath } = await setup();
    const stale = await open();
    const fresh = await open();
    // A key whose slot holds no events yet, owned by some shard X; move that slot to another shard Y.
    const key = 'order-moved';
    const { shard: from, slot } = stale.router.route(key);
    const to = ['a', 'b', 'c'].find((s) => s !== from)!;
    const catalog = await openShardCatalog(conn);
    try {
      await applyShardMap(catalog, planMoveSlots((await catalog.load())!.map, [slot!], to));
    } finally {
      await catalog.close();
    }
    expect(stale.router.epoch).toBe(1); // still holds the old map
    const r = await stale.appendToStream(key, [{ id: 'moved-1', type: 'Placed', data: {} }]);
    expect(stale.router.epoch).toBe(2); // refreshed after the refusal
    expect(await idsOn(shardPath(from))).not.toContain('moved-1');
    expect(await idsOn(shardPath(to))).toContain('moved-1');
    expect((await fresh.readStream(key)).map((e) => e.globalPosition)).toEqual([r.lastGlobalPosition]);
  });

  it('without retries the stale write fails with StaleShardMapError and writes nothing anywhere', async () => {
    const { catalog: conn, open, shardPath } = await setup();
    const stale = await open(1);
    const key = 'order-refused';
    const { slot, shard: from } = stale.router.route(key);
    const catalog = await openShardCatalog(conn);
    try {
      await applyShardMap(catalog, planMoveSlots((await catalog.load())!.map, [slot!], from === 'a' ? 'b' : 'a'));
    } finally {
      await catalog.close();
    }
    await expect(stale.appendToStream(key, [{ id: 'refused-1', type: 'Placed', data: {} }])).rejects.toMatchObject({ code: 'STALE_SHARD_MAP', retryable: true });
    for (const s of ['a', 'b', 'c']) expect(await idsOn(shardPath(s))).not.toContain('refused-1');
  });

  it('refuses to move a slot away from a shard that holds events of it (no silent stranding)', async () => {
    const { catalog: conn, open } = await setup();
    const store = await open();
    await store.appendToStream('order-1', [{ type: 'Placed', data: {} }]);
    const { slot, shard } = store.router.route('order-1');
    const catalog = await openShardCatalog(conn);
    try {
      const next = planMoveSlots((await catalog.load())!.map, [slot!], shard === 'a' ? 'b' : 'a');
      await expect(applyShardMap(catalog, next)).rejects.toBeInstanceOf(InvalidShardMapError);
      expect(await catalog.epoch()).toBe(1);
    } finally {
      await catalog.close();
    }
    await store.appendToStream('order-1', [{ type: 'Paid', data: {} }]); // the shard still accepts it
    expect(await store.readStream('order-1')).toHaveLength(2);
  });

  it('adds a shard to an empty store: about a quarter of the slots move to it, and writes reach it', async () => {
    const { catalog: conn, open, tmp } = await setup();
    const store = await open();
    const catalog = await openShardCatalog(conn);
    try {
      const state = await addShard(catalog, { id: 'd', connection: { kind: 'sqlite', path: join(tmp.dir, 'd.db') } });
      const owners = (state.map.strategy as { owners: string[] }).owners;
      expect(owners.filter((o) => o === 'd').length).toBe(1024);
    } finally {
      await catalog.close();
    }
    for (let i = 0; i < 40; i++) await store.appendToStream(`s-${i}`, [{ type: 'E', data: { i } }]);
    expect(store.router.epoch).toBe(2);
    const all = await store.readAll();
    expect(all).toHaveLength(40);
    expect(new Set(all.map((e) => e.globalPosition % 1024n))).toContain(3n); // some events on shard index 3 (d)
  });

  it('directory pins are cached per epoch: a new pin reaches routers on refresh', async () => {
    const { catalog: conn, open } = await setup();
    const store = await open();
    const catalog = await openShardCatalog(conn);
    try {
      const state = (await catalog.load())!;
      await applyShardMap(catalog, { ...state.map, epoch: 2, strategy: { kind: 'composite', fallback: state.map.strategy as { kind: 'hash'; owners: string[] } } });
      await pinKey(catalog, 'tenant-big', 'c');
    } finally {
      await catalog.close();
    }
    expect(store.router.epoch).toBe(1); // never told: the shards refuse its old routes, so it reloads
    await store.appendToStream('tenant-big', [{ type: 'E', data: {} }]);
    expect(store.router.route('tenant-big')).toEqual({ shard: 'c', slot: null, epoch: 3 });
    expect(await store.streamExists('tenant-big')).toBe(true);
    expect((await store.readAll()).map((e) => e.globalPosition % 1024n)).toEqual([2n]); // on shard c (index 2)
  });
});
