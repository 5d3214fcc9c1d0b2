/**
 * The sharding subpath: strategies, the versioned shard map and its catalog, the router, the sharded event
 * store and scatter-gather queries.
 *
 * @example
 * ```ts
 * import { openShardedEventStore } from 'tessera/sharding';
 * ```
 * @module
 */
export { addShard, applyShardMap, pinKey } from './admin.js';
export { type CatalogConnection, type CatalogState, openShardCatalog, ShardCatalog } from './catalog.js';
export {
  DEFAULT_SLOTS, evenOwners, type CompositeSpec, type DirectorySpec, type HashSpec, type KeyRange, POSITION_STRIDE, type RangeSpec,
  type ShardConnection, type ShardInfo, type ShardMap, shardIds, type StrategySpec, validateShardMap,
} from './map.js';
export { type AddShardOptions, planAddShard, planMoveSlots, slotsByShard } from './plan.js';
export { type RetryOptions, type Route, ShardRouter } from './router.js';
export { buildStrategy, type Placement, type ShardStrategy } from './strategies.js';
export { type Aggregate, type Condition, type OrderKey, type ShardQuery, validateQuery } from './query.js';
export { type QueryTarget, scatterGather, type ScatterOptions, type ScatterResult } from './scatter.js';
export { openShardedEventStore, type ShardedEventStoreOptions } from './open.js';
export { type ShardCursor, ShardedEventStore } from './store.js';
