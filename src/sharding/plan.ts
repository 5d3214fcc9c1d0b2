import { InvalidArgumentError } from '../errors.js';
import { type HashSpec, type RangeSpec, type ShardInfo, type ShardMap, type StrategySpec, validateShardMap } from './map.js';
import { findRange } from './strategies.js';

/**
 * Map changes as pure functions: each returns the next map (epoch + 1), validated, and never touches a
 * database; the catalog stores it by compare-and-set.
 * @module
 */

/** Options of {@link planAddShard}. */
export interface AddShardOptions {
  /** Range maps only: the key where the new shard's range starts (it takes `[splitAt, end of that range)`). */
  splitAt?: string;
}

/** Gives the new shard ⌊S/(n+1)⌋ whole slots, each taken from the shard that currently owns the most. */
function addToHash(spec: HashSpec, shard: string): HashSpec {
  const owners = [...spec.owners];
  const bySlot = new Map<string, number[]>();
  owners.forEach((owner, slot) => {
    const list = bySlot.get(owner) ?? [];
    list.push(slot);
    bySlot.set(owner, list);
  });
  const target = Math.floor(owners.length / (bySlot.size + 1));
  for (let moved = 0; moved < target; moved++) {
    let donor: number[] | undefined;
    for (const list of bySlot.values()) if (donor === undefined || list.length > donor.length) donor = list;
    owners[donor!.pop()!] = shard;
  }
  return { kind: 'hash', owners };
}

function addToRange(spec: RangeSpec, shard: string, splitAt: string | undefined): RangeSpec {
  if (typeof splitAt !== 'string' || splitAt.length === 0) {
    throw new InvalidArgumentError('splitAt', 'is required to add a shard to a range map', 'Pass the key where the new shard\'s range starts, e.g. splitAt: "m".');
  }
  const i = findRange(spec.ranges, splitAt);
  const old = spec.ranges[i]!;
  if (old.from === splitAt) {
    throw new InvalidArgumentError('splitAt', `"${splitAt}" already starts a range`, 'Pick a key strictly inside an existing range.');
  }
  const ranges = [...spec.ranges.slice(0, i), { ...old, to: splitAt }, { from: splitAt, to: old.to, shard }, ...spec.ranges.slice(i + 1)];
  return { kind: 'range', ranges };
}

function addToStrategy(spec: StrategySpec, shard: string, opts: AddShardOptions): StrategySpec {
  switch (spec.kind) {
    case 'hash':
      return addToHash(spec, shard);
    case 'range':
      return addToRange(spec, shard, opts.splitAt);
    case 'directory':
      return spec; // new keys reach the shard through directory pins
    case 'composite':
      return { kind: 'composite', fallback: spec.fallback.kind === 'hash' ? addToHash(spec.fallback, shard) : addToRange(spec.fallback, shard, opts.splitAt) };
  }
}

/**
 * The map with one more shard. On hash maps the new shard takes ⌊S/(n+1)⌋ whole slots from the fullest
 * shards, so about 1/(n+1) of the keys move, and only keys of the moved slots.
 * @example
 * ```ts
 * const next = planAddShard(map, { id: 'd', index: 3, connection: { kind: 'sqlite', path: 'd.db' } });
 * next.epoch === map.epoch + 1; // true
 * ```
 */
export function planAddShard(map: ShardMap, shard: ShardInfo, opts: AddShardOptions = {}): ShardMap {
  const next: ShardMap = { epoch: map.epoch + 1, shards: [...map.shards, shard], strategy: map.strategy };
  validateShardMap(next); // the new shard's id, index and connection, before any slot moves
  next.strategy = addToStrategy(map.strategy, shard.id, opts);
  validateShardMap(next);
  return next;
}

/**
 * The map with the given hash slots owned by `shard` (a manual move, e.g. to relieve a hot shard).
 * @example
 * ```ts
 * const next = planMoveSlots(map, [17, 18], 'b');
 * ```
 */
export function planMoveSlots(map: ShardMap, slots: readonly number[], shard: string): ShardMap {
  const spec = map.strategy.kind === 'composite' ? map.strategy.fallback : map.strategy;
  if (spec.kind !== 'hash') throw new InvalidArgumentError('slots', 'the map has no hash slots', 'Move slots only on hash (or composite over hash) maps.');
  const owners = [...spec.owners];
  for (const slot of slots) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= owners.length) {
      throw new InvalidArgumentError('slots', `slot ${String(slot)} is outside 0 … ${owners.length - 1}`, 'Pass slot numbers of this map.');
    }
    owners[slot] = shard;
  }
  const hash: HashSpec = { kind: 'hash', owners };
  const next: ShardMap = { ...map, epoch: map.epoch + 1, strategy: map.strategy.kind === 'composite' ? { kind: 'composite', fallback: hash } : hash };
  validateShardMap(next);
  return next;
}

/**
 * Slots owned by each shard (hash and composite-over-hash maps; empty otherwise).
 * @example
 * ```ts
 * slotsByShard(map).get('a')?.length; // 1366 of 4096 with three shards
 * ```
 */
export function slotsByShard(map: ShardMap): Map<string, number[]> {
  const spec = map.strategy.kind === 'composite' ? map.strategy.fallback : map.strategy;
  const out = new Map<string, number[]>(map.shards.map((s) => [s.id, []]));
  if (spec.kind === 'hash') spec.owners.forEach((owner, slot) => out.get(owner)?.push(slot));
  return out;
}
