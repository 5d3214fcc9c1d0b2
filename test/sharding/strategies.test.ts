import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildStrategy, type HashSpec, type StrategySpec, DEFAULT_SLOTS, evenOwners, InvalidArgumentError, InvalidShardMapError, type KeyRange, planAddShard, type ShardMap, ShardRouter,
  UnknownShardError, validateShardMap,
} from '../../src/index.js';
import { bucketOf } from '../../src/support/hash.js';

const conn = (id: string) => ({ kind: 'sqlite' as const, path: `${id}.db` });
const shards = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, index: i, connection: conn(`s${i}`) }));
const hashSpec = (n: number): HashSpec => ({ kind: 'hash', owners: evenOwners(shards(n).map((s) => s.id)) });
const hashMap = (n: number): ShardMap => ({ epoch: 1, shards: shards(n), strategy: hashSpec(n) });

/** Sorted distinct boundaries → contiguous ranges over n shards (round-robin owners). */
function rangesFrom(bounds: string[], n: number): KeyRange[] {
  const b = [...new Set(bounds)].sort();
  const edges: Array<string | null> = [null, ...b, null];
  return edges.slice(0, -1).map((from, i) => ({ from, to: edges[i + 1]!, shard: `s${i % n}` }));
}

describe('strategies are deterministic', () => {
  it('the same key goes to the same shard and slot on independently built strategies', () => {
    const ranges = rangesFrom(['d', 'k', 'q'], 3);
    const directory = new Map([['pinned', 's2']]);
    const specs: StrategySpec[] = [
      hashSpec(3),
      { kind: 'range', ranges },
      { kind: 'directory', defaultShard: 's0' },
      { kind: 'composite', fallback: hashSpec(3) },
    ];
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), (key) => {
        for (const spec of specs) {
          const a = buildStrategy(structuredClone(spec), new Map(directory)).place(key);
          const b = buildStrategy(structuredClone(spec), new Map(directory)).place(key);
          expect(a).toEqual(b);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('hash slots are xxHash64 mod S and never depend on the shard count', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 12 }), (key, n) => {
        expect(buildStrategy(hashMap(n).strategy).place(key).slot).toBe(bucketOf(key, DEFAULT_SLOTS));
      }),
    );
  });

  it('range: binary search finds the one range with from <= key < to', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 30 }), fc.string({ minLength: 1, maxLength: 8 }), (bounds, key) => {
        const ranges = rangesFrom(bounds, 4);
        validateShardMap({ epoch: 1, shards: shards(4), strategy: { kind: 'range', ranges } });
        const expected = ranges.find((r) => (r.from === null || r.from <= key) && (r.to === null || key < r.to))!;
        expect(buildStrategy({ kind: 'range', ranges }).place(key)).toEqual({ shard: expected.shard, slot: null });
      }),
    );
  });

  it('composite: directory pins win, every other key falls back to hash', () => {
    const s = buildStrategy({ kind: 'composite', fallback: hashSpec(3) }, new Map([['acme', 's2']]));
    expect(s.place('acme')).toEqual({ shard: 's2', slot: null });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((k) => k !== 'acme'), (key) => {
        expect(s.place(key)).toEqual(buildStrategy(hashMap(3).strategy).place(key));
      }),
    );
  });
});

describe('hash balance and movement over 1,000,000 keys', () => {
  const N = 1_000_000;
  const slotCounts = new Array<number>(DEFAULT_SLOTS).fill(0);
  for (let i = 0; i < N; i++) slotCounts[bucketOf(`order-${i}`, DEFAULT_SLOTS)]!++;

  it('slots are uniform: chi-square within 5 standard deviations of its mean', () => {
    const expected = N / DEFAULT_SLOTS;
    const chi2 = slotCounts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
    const dof = DEFAULT_SLOTS - 1;
    expect(Math.abs(chi2 - dof)).toBeLessThan(5 * Math.sqrt(2 * dof));
  });

  it.each([2, 3, 5, 8])('%i shards each get their slot share within 5 sigma', (n) => {
    const map = hashMap(n);
    const perShard = new Map<string, number>();
    const owners = (map.strategy as { owners: string[] }).owners;
    slotCounts.forEach((c, slot) => perShard.set(owners[slot]!, (perShard.get(owners[slot]!) ?? 0) + c));
    for (const [shard, count] of perShard) {
      const p = owners.filter((o) => o === shard).length / DEFAULT_SLOTS;
      expect(Math.abs(count - N * p)).toBeLessThan(5 * Math.sqrt(N * p * (1 - p)));
    }
  });

  it.each([1, 2, 3, 4, 7])('adding a shard to %i moves about 1/(n+1) of the keys, only keys of moved slots', (n) => {
    const before = hashMap(n);
    const after = planAddShard(before, { id: 'new', index: n, connection: conn('new') });
    const a = (before.strategy as { owners: string[] }).owners;
    const b = (after.strategy as { owners: string[] }).owners;
    const movedSlots = new Set(a.flatMap((o, slot) => (o === b[slot] ? [] : [slot])));
    expect(movedSlots.size).toBe(Math.floor(DEFAULT_SLOTS / (n + 1)));
    for (const slot of movedSlots) expect(b[slot]).toBe('new'); // slots only move to the new shard
    const movedKeys = [...movedSlots].reduce((acc, slot) => acc + slotCounts[slot]!, 0);
    const p = movedSlots.size / DEFAULT_SLOTS;
    expect(Math.abs(movedKeys - N * p)).toBeLessThan(5 * Math.sqrt(N * p * (1 - p)));
    // Balance after the move: slot counts per shard differ by at most one slot from the ideal share.
    const counts = [...new Set(b)].map((s) => b.filter((o) => o === s).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(Math.ceil(DEFAULT_SLOTS / (n * (n + 1))) + 1);
  });

  it('a key changes shard only if its slot moved (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.string({ minLength: 1 }), { maxLength: 200 }), (n, keys) => {
        const before = buildStrategy(hashMap(n).strategy);
        const nextMap = planAddShard(hashMap(n), { id: 'new', index: n, connection: conn('new') });
        const after = buildStrategy(nextMap.strategy);
        for (const k of keys) {
          const x = before.place(k);
          const y = after.place(k);
          if (x.shard !== y.shard) expect(y.shard).toBe('new');
          expect(y.slot).toBe(x.slot);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('bad input is refused with typed errors', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return null;
  };

  it('invalid maps: empty shard list, unassigned slot, unknown shard, overlap, hole, duplicate shard', () => {
    const base = hashMap(2);
    const owners = [...(base.strategy as { owners: string[] }).owners];
    const cases: Array<[string, ShardMap]> = [
      ['empty shard list', { ...base, shards: [] }],
      ['unassigned slot', { ...base, strategy: { kind: 'hash', owners: owners.map((o, i) => (i === 7 ? (undefined as unknown as string) : o)) } }],
      ['unknown shard in a slot', { ...base, strategy: { kind: 'hash', owners: owners.map((o, i) => (i === 9 ? 'zz' : o)) } }],
      ['overlapping ranges', { ...base, strategy: { kind: 'range', ranges: [{ from: null, to: 'm', shard: 's0' }, { from: 'k', to: null, shard: 's1' }] } }],
      ['a hole between ranges', { ...base, strategy: { kind: 'range', ranges: [{ from: null, to: 'k', shard: 's0' }, { from: 'm', to: null, shard: 's1' }] } }],
      ['a hole below the first range', { ...base, strategy: { kind: 'range', ranges: [{ from: 'a', to: null, shard: 's0' }] } }],
      ['duplicate shard id', { ...base, shards: [...base.shards, { ...base.shards[0]!, index: 5 }] }],
      ['directory default unknown', { ...base, strategy: { kind: 'directory', defaultShard: 'nope' } }],
    ];
    for (const [name, map] of cases) {
      const e = err(() => validateShardMap(map));
      expect(e, name).toBeInstanceOf(InvalidShardMapError);
      expect((e as InvalidShardMapError).code).toBe('INVALID_SHARD_MAP');
      expect((e as InvalidShardMapError).hint.length).toBeGreaterThan(10);
    }
    expect(err(() => validateShardMap(base, new Map([['k', 'ghost']])))).toBeInstanceOf(InvalidShardMapError);
  });

  it('keys of the wrong type, unknown shards', () => {
    const router = ShardRouter.fixed(hashMap(3));
    for (const key of [42, null, undefined, '', { id: 'x' }]) {
      expect(err(() => router.route(key as unknown as string))).toBeInstanceOf(InvalidArgumentError);
    }
    const e = err(() => router.requireShard('zz'));
    expect(e).toBeInstanceOf(UnknownShardError);
    expect((e as UnknownShardError).hint).toContain('s0');
  });
});
