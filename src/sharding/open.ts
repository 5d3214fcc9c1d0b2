import { InvalidArgumentError } from '../errors.js';
import { type CommonStoreOptions, resolveAppendHooks, resolveCommonOptions } from '../eventstore/options.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { type CatalogConnection, openShardCatalog, type ShardCatalog } from './catalog.js';
import { evenOwners, type ShardConnection, type ShardMap, type StrategySpec } from './map.js';
import { ShardRouter } from './router.js';
import { pushFence } from './shard-log.js';
import { openShard, type ShardHandle, type ShardStoreOptions } from './shards.js';
import { slotsByShard } from './plan.js';
import { ShardedEventStore } from './store.js';

/** Options of {@link openShardedEventStore}. */
export interface ShardedEventStoreOptions extends CommonStoreOptions {
  /** The catalog database holding the shard map (SQLite file or PostgreSQL database). */
  catalog: CatalogConnection;
  /**
   * The shards of a new map (used only when the catalog holds none yet); indexes follow the list order.
   * Later opens take the shards from the catalog.
   */
  shards?: Array<{ id: string; connection: ShardConnection }>;
  /** Strategy of a new map (default: hash, 4,096 slots spread evenly). */
  strategy?: StrategySpec;
  /** The shard key of a stream (default: the stream id), e.g. `(id) => id.split('-')[0]` to keep a tenant together. */
  shardKey?: (streamId: string) => string;
  /** Attempts of a write refused for a stale map before the error reaches the caller (default 5). */
  retryAttempts?: number;
}

function initialMap(o: ShardedEventStoreOptions): ShardMap {
  if (!Array.isArray(o.shards)) {
    throw new InvalidArgumentError('shards', 'is required while the catalog holds no shard map', "Pass shards: [{ id: 'a', connection: { kind: 'sqlite', path: 'a.db' } }, …].");
  }
  const shards = o.shards.map((s, index) => ({ id: s?.id, index, connection: s?.connection }));
  return { epoch: 1, shards, strategy: o.strategy ?? { kind: 'hash', owners: evenOwners(shards.map((s) => s.id)) } };
}

/** Opens every shard of `map` not open yet and brings its fence up to the map's epoch. */
export async function syncShards(map: ShardMap, handles: Map<string, Promise<ShardHandle>>, options: ShardStoreOptions): Promise<ShardHandle[]> {
  return Promise.all(
    map.shards.map((info) => {
      let h = handles.get(info.id);
      if (h === undefined) {
        h = openShard(info, options).then(async (handle) => {
          await pushFence(handle.db, info, map.epoch, slotsByShard(map).get(info.id) ?? []);
          return handle;
        });
        h.catch(() => handles.delete(info.id));
        handles.set(info.id, h);
      }
      return h;
    }),
  );
}

/**
 * Opens an {@link EventStore} over several shard stores (SQLite files or PostgreSQL databases on different
 * servers), routed by stream id through the shard map kept in `catalog`. The first open of a catalog creates
 * the map from `shards` (epoch 1); every later open reads it from the catalog.
 *
 * @example
 * ```ts
 * const store = await openShardedEventStore({
 *   catalog: { kind: 'sqlite', path: './catalog.db' },
 *   shards: [
 *     { id: 'a', connection: { kind: 'sqlite', path: './a.db' } },
 *     { id: 'b', connection: { kind: 'postgres', connectionString: 'postgres://db-b/app' } },
 *   ],
 * });
 * await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: { total: 42 } }]);
 * ```
 */
export async function openShardedEventStore(options: ShardedEventStoreOptions): Promise<ShardedEventStore> {
  const o = requireOptionsObject(options, 'options') as unknown as ShardedEventStoreOptions;
  const common = resolveCommonOptions(o);
  const hooks = resolveAppendHooks(o.appendHooks);
  if (o.shardKey !== undefined && typeof o.shardKey !== 'function') {
    throw new InvalidArgumentError('shardKey', 'is not a function', 'Pass shardKey: (streamId) => streamId.split(":")[0].');
  }
  const retryAttempts = o.retryAttempts === undefined ? 5 : requirePositiveInt(o.retryAttempts, 'retryAttempts');
  if (!o.catalog || (o.catalog.kind !== 'sqlite' && o.catalog.kind !== 'postgres')) {
    throw new InvalidArgumentError('catalog', 'is not a catalog connection', "Pass catalog: { kind: 'sqlite', path } or { kind: 'postgres', connectionString }.");
  }
  const catalog = await openShardCatalog(o.catalog);
  const handles = new Map<string, Promise<ShardHandle>>();
  try {
    if ((await catalog.load()) === null) await catalog.initialize(initialMap(o));
    const router = await ShardRouter.open(catalog);
    const shardOptions: ShardStoreOptions = { maxEventBytes: common.maxEventBytes, clock: common.clock, random: common.random, appendHooks: hooks };
    if (o.upcasters !== undefined) shardOptions.upcasters = o.upcasters;
    const shardKey = o.shardKey ?? ((id: string) => id);
    let cached: { epoch: number; all: Promise<ShardHandle[]> | null } = { epoch: 0, all: null };
    const store = new ShardedEventStore({
      router,
      shard: async (id) => {
        const open = handles.get(id);
        if (open !== undefined) return open;
        await router.refresh();
        await syncShards(router.map, handles, shardOptions);
        return handles.get(router.requireShard(id))!;
      },
      allShards: () => {
        // Every shard of the map is open already (the usual case): no new promises per call.
        const map = router.map;
        if (cached.epoch === map.epoch && cached.all !== null) return cached.all;
        const all = syncShards(map, handles, shardOptions);
        cached = { epoch: map.epoch, all };
        all.catch(() => (cached = { epoch: 0, all: null }));
        return all;
      },
      shardKey: (id) => shardKey(id),
      ids: common.ids,
      random: common.random,
      retryAttempts,
      close: () => closeAll(catalog, handles),
    });
    await store.init();
    return store;
  } catch (e) {
    await closeAll(catalog, handles);
    throw e;
  }
}

async function closeAll(catalog: ShardCatalog, handles: Map<string, Promise<ShardHandle>>): Promise<void> {
  const open = await Promise.allSettled(handles.values());
  await Promise.allSettled(open.map((h) => (h.status === 'fulfilled' ? h.value.store.close() : undefined)));
  await catalog.close();
}
