import { StaleShardMapError } from '../errors.js';
import type { CatalogState, ShardCatalog } from './catalog.js';
import { type ShardInfo, type ShardMap, validateShardMap } from './map.js';
import { type AddShardOptions, planAddShard, slotsByShard } from './plan.js';
import { pushFence } from './shard-log.js';
import { openShard, type ShardHandle } from './shards.js';
import { requireKey } from './strategies.js';

/**
 * Applying a map change to the shards and the catalog, in the order that never lets a write land on a
 * shard that no longer owns its key:
 * 1. every shard records the new epoch and its new slots (shards losing slots first; a shard refuses to
 *    give up a slot it holds events of) — from here a router with the old map is refused everywhere it
 *    would now be wrong, and retries;
 * 2. the catalog takes the new map by compare-and-set on the epoch — routers that refresh now see it.
 * A router refreshing between 1 and 2 still reads the old map, is refused again and retries with backoff.
 * @module
 */

/**
 * Applies `next` (epoch = current + 1), with optional directory changes (`null` unpins a key).
 * @example
 * ```ts
 * const state = (await catalog.load())!;
 * await applyShardMap(catalog, planMoveSlots(state.map, [17], 'b'));
 * ```
 */
export async function applyShardMap(catalog: ShardCatalog, next: ShardMap, directoryChanges: ReadonlyMap<string, string | null> = new Map()): Promise<CatalogState> {
  const current = await catalog.load();
  const epoch = current?.map.epoch ?? 0;
  if (next.epoch !== epoch + 1) throw new StaleShardMapError(next.epoch - 1, epoch, `the change to epoch ${next.epoch} was planned from another map`);
  const directory = new Map(current?.directory);
  for (const [k, v] of directoryChanges) {
    if (v === null) directory.delete(k);
    else directory.set(k, v);
  }
  validateShardMap(next, directory);
  const before = current === null ? new Map<string, number[]>() : slotsByShard(current.map);
  const after = slotsByShard(next);
  const losing = (s: ShardInfo): boolean => (before.get(s.id) ?? []).some((slot) => !(after.get(s.id) ?? []).includes(slot));
  const ordered = [...next.shards].sort((a, b) => Number(losing(b)) - Number(losing(a)));
  const handles: ShardHandle[] = [];
  try {
    for (const info of ordered) {
      const handle = await openShard(info, {});
      handles.push(handle);
      await pushFence(handle.db, info, next.epoch, after.get(info.id) ?? []);
    }
  } finally {
    await Promise.allSettled(handles.map((h) => h.store.close()));
  }
  return catalog.compareAndSet(epoch, next, directoryChanges);
}

/**
 * Adds a shard: plans the map (hash maps move ⌊S/(n+1)⌋ whole slots to it) and applies it. The new shard's
 * index is the next unused one.
 * @example
 * ```ts
 * await addShard(catalog, { id: 'd', connection: { kind: 'sqlite', path: './d.db' } });
 * ```
 */
export async function addShard(catalog: ShardCatalog, shard: Omit<ShardInfo, 'index'>, opts: AddShardOptions = {}): Promise<CatalogState> {
  const current = await catalog.load();
  if (current === null) throw new StaleShardMapError(0, 0, 'the catalog holds no shard map yet');
  const index = Math.max(-1, ...current.map.shards.map((s) => s.index)) + 1;
  return applyShardMap(catalog, planAddShard(current.map, { ...shard, index }, opts));
}

/**
 * Pins a key to a shard in the directory (or unpins it with `null`): a map change of its own (epoch + 1),
 * applied like any other (shards fenced first), so a router with the old directory is refused and reloads.
 * Pin a key before it has events: its stored streams do not move.
 * @example
 * ```ts
 * await pinKey(catalog, 'tenant-acme', 'big');
 * ```
 */
export async function pinKey(catalog: ShardCatalog, key: string, shard: string | null): Promise<CatalogState> {
  requireKey(key);
  const current = await catalog.load();
  if (current === null) throw new StaleShardMapError(0, 0, 'the catalog holds no shard map yet');
  return applyShardMap(catalog, { ...current.map, epoch: current.map.epoch + 1 }, new Map([[key, shard]]));
}
