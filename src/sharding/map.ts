import { InvalidShardMapError } from '../errors.js';

/**
 * The shard map as data: which shards exist, how to reach them and how keys are assigned to them. It is
 * persisted in a catalog database, versioned by `epoch`, validated on every change and changed only by
 * compare-and-set on the epoch (see `catalog.ts`).
 * @module
 */

/**
 * Number of logical hash slots: fixed for the life of a map, so adding a shard moves whole slots.
 * @example
 * ```ts
 * evenOwners(['a', 'b']).length === DEFAULT_SLOTS; // true
 * ```
 */
export const DEFAULT_SLOTS = 4_096;
/**
 * Shard indexes are tags in merged global positions (`lamport * POSITION_STRIDE + index`), so a sharded
 * store has at most this many shards over its lifetime (indexes are never reused).
 * @example
 * ```ts
 * const shardIndex = Number(event.globalPosition % BigInt(POSITION_STRIDE));
 * ```
 */
export const POSITION_STRIDE = 1_024;

/** How to reach one shard database. */
export type ShardConnection =
  | { kind: 'sqlite'; path: string; synchronous?: 'FULL' | 'NORMAL' }
  | { kind: 'postgres'; connectionString: string; schema?: string; maxConnections?: number };

/** One shard: a stable id, a stable index (0 … 1023, never reused) and its connection. */
export interface ShardInfo {
  id: string;
  index: number;
  connection: ShardConnection;
}

/** One range `[from, to)` of keys (JavaScript string order); `null` is −∞ for `from` and +∞ for `to`. */
export interface KeyRange {
  from: string | null;
  to: string | null;
  shard: string;
}

/** Hash: key → xxHash64 slot (`owners.length` slots) → owning shard id. */
export interface HashSpec {
  kind: 'hash';
  owners: string[];
}

/** Range: sorted, contiguous ranges covering every key. */
export interface RangeSpec {
  kind: 'range';
  ranges: KeyRange[];
}

/** Directory: each key looked up in the catalog's directory table; keys not listed go to `defaultShard`. */
export interface DirectorySpec {
  kind: 'directory';
  defaultShard: string;
}

/** Composite: directory pins (big tenants) first, then the fallback strategy for every other key. */
export interface CompositeSpec {
  kind: 'composite';
  fallback: HashSpec | RangeSpec;
}

export type StrategySpec = HashSpec | RangeSpec | DirectorySpec | CompositeSpec;

/**
 * A versioned shard map.
 * @example
 * ```ts
 * const map: ShardMap = {
 *   epoch: 1,
 *   shards: [{ id: 'a', index: 0, connection: { kind: 'sqlite', path: 'a.db' } }],
 *   strategy: { kind: 'hash', owners: new Array(4096).fill('a') },
 * };
 * ```
 */
export interface ShardMap {
  epoch: number;
  shards: ShardInfo[];
  strategy: StrategySpec;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function invalid(reason: string, hint: string): never {
  throw new InvalidShardMapError(reason, hint);
}

function validateShards(shards: unknown): Set<string> {
  if (!Array.isArray(shards) || shards.length === 0) invalid('the shard list is empty', 'List at least one shard: [{ id, index, connection }].');
  const ids = new Set<string>();
  const indexes = new Set<number>();
  for (const s of shards as ShardInfo[]) {
    if (typeof s?.id !== 'string' || !ID.test(s.id)) invalid(`shard id ${JSON.stringify(s?.id)} is not a plain name`, 'Use letters, digits, _ . - (at most 63 characters).');
    if (!Number.isInteger(s.index) || s.index < 0 || s.index >= POSITION_STRIDE) invalid(`shard "${s.id}" has index ${String(s.index)}`, `Use an integer index 0 … ${POSITION_STRIDE - 1}, never reused.`);
    if (ids.has(s.id)) invalid(`shard "${s.id}" is listed twice`, 'Give every shard its own id.');
    if (indexes.has(s.index)) invalid(`index ${s.index} is used twice`, 'Give every shard its own index.');
    validateConnection(s);
    ids.add(s.id);
    indexes.add(s.index);
  }
  return ids;
}

function validateConnection(s: ShardInfo): void {
  const c = s.connection;
  const ok =
    (c?.kind === 'sqlite' && typeof c.path === 'string' && c.path.length > 0) ||
    (c?.kind === 'postgres' && typeof c.connectionString === 'string' && c.connectionString.length > 0);
  if (!ok) invalid(`shard "${s.id}" has no valid connection`, "Pass connection: { kind: 'sqlite', path } or { kind: 'postgres', connectionString, schema? }.");
}

function requireKnown(shard: unknown, known: Set<string>, where: string): void {
  if (typeof shard !== 'string' || !known.has(shard)) invalid(`${where} names unknown shard ${JSON.stringify(shard)}`, `Use one of: ${[...known].join(', ')}.`);
}

function validateHash(spec: HashSpec, known: Set<string>): void {
  if (!Array.isArray(spec.owners) || spec.owners.length === 0 || !Number.isSafeInteger(spec.owners.length)) {
    invalid('the hash strategy has no slots', `Pass owners: an array of ${DEFAULT_SLOTS} shard ids (one per slot).`);
  }
  for (let slot = 0; slot < spec.owners.length; slot++) {
    if (spec.owners[slot] === undefined) invalid(`slot ${slot} is unassigned`, 'Assign every slot to a shard.');
    requireKnown(spec.owners[slot], known, `slot ${slot}`);
  }
}

function validateRange(spec: RangeSpec, known: Set<string>): void {
  const r = spec.ranges;
  if (!Array.isArray(r) || r.length === 0) invalid('the range strategy has no ranges', 'Pass ranges: [{ from: null, to: null, shard }] at least.');
  if (r[0]!.from !== null) invalid(`the first range starts at ${JSON.stringify(r[0]!.from)}, leaving a hole below it`, 'Start the first range at from: null (−∞).');
  if (r[r.length - 1]!.to !== null) invalid(`the last range ends at ${JSON.stringify(r[r.length - 1]!.to)}, leaving a hole above it`, 'End the last range at to: null (+∞).');
  for (let i = 0; i < r.length; i++) {
    const range = r[i]!;
    requireKnown(range.shard, known, `range ${i}`);
    if (range.from !== null && range.to !== null && !(range.from < range.to)) invalid(`range ${i} [${range.from}, ${range.to}) is empty or reversed`, 'Each range needs from < to.');
    const next = r[i + 1];
    if (next === undefined) continue;
    if (range.to === null || next.from === null) invalid(`range ${i} and range ${i + 1} overlap (an open end in the middle)`, 'Only the first range may start at null and only the last may end at null.');
    if (next.from < range.to) invalid(`range ${i} and range ${i + 1} overlap at ${JSON.stringify(next.from)}`, 'Sort ranges and make each start where the previous one ends.');
    if (next.from > range.to) invalid(`keys [${range.to}, ${next.from}) fall in a hole between range ${i} and range ${i + 1}`, 'Make each range start exactly where the previous one ends.');
  }
}

function validateStrategy(spec: StrategySpec, known: Set<string>): void {
  switch (spec?.kind) {
    case 'hash':
      return validateHash(spec, known);
    case 'range':
      return validateRange(spec, known);
    case 'directory':
      return requireKnown(spec.defaultShard, known, 'the directory default');
    case 'composite':
      if (spec.fallback?.kind !== 'hash' && spec.fallback?.kind !== 'range') invalid('a composite strategy needs a hash or range fallback', "Pass fallback: { kind: 'hash', owners } or { kind: 'range', ranges }.");
      return validateStrategy(spec.fallback, known);
    default:
      return invalid(`unknown strategy kind ${JSON.stringify((spec as { kind?: unknown } | undefined)?.kind)}`, 'Use hash, range, directory or composite.');
  }
}

/**
 * Checks every rule of a shard map (known shards, all slots assigned, ranges covering the keyspace without
 * overlap, directory entries naming known shards) and throws {@link InvalidShardMapError} on the first break.
 * @example
 * ```ts
 * validateShardMap(map, new Map([['big-tenant', 'b']]));
 * ```
 */
export function validateShardMap(map: ShardMap, directory: ReadonlyMap<string, string> = new Map()): void {
  if (typeof map !== 'object' || map === null) invalid('the map is not an object', 'Pass { epoch, shards, strategy }.');
  if (!Number.isSafeInteger(map.epoch) || map.epoch < 1) invalid(`epoch ${String(map.epoch)} is not a positive integer`, 'Epochs start at 1 and grow by 1 per change.');
  const known = validateShards(map.shards);
  validateStrategy(map.strategy, known);
  for (const [key, shard] of directory) requireKnown(shard, known, `directory entry "${key}"`);
}

/**
 * The shard ids of a map, in index order.
 * @example
 * ```ts
 * shardIds(map); // ['a', 'b', 'c']
 * ```
 */
export function shardIds(map: ShardMap): string[] {
  return [...map.shards].sort((a, b) => a.index - b.index).map((s) => s.id);
}

/**
 * Hash slots spread evenly over shards (slot `i` → shard `i mod n`), the starting point of a new hash map.
 * @example
 * ```ts
 * evenOwners(['a', 'b', 'c']).length; // 4096
 * ```
 */
export function evenOwners(shards: readonly string[], slots = DEFAULT_SLOTS): string[] {
  if (shards.length === 0) invalid('the shard list is empty', 'List at least one shard.');
  return Array.from({ length: slots }, (_, i) => shards[i % shards.length]!);
}
