import type { Aggregate, OrderKey, ShardQuery } from './query.js';

/**
 * Merging per-shard results: a k-way merge of sorted row lists, and the combination of partial aggregates.
 * Values compare like SQLite (and PostgreSQL with the pushed-down NULLS FIRST/LAST and a "C" collation):
 * NULL first, then numbers, then text by code point (UTF-8 byte order), then bytes.
 * @module
 */

type Row = Record<string, unknown>;

const rank = (v: unknown): number => (v === null || v === undefined ? 0 : typeof v === 'number' || typeof v === 'bigint' ? 1 : typeof v === 'string' ? 2 : 3);

/** SQL-like comparison of two column values. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ra === 2) return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string));
  if (ra === 3) return Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array));
  return 0;
}

/** A row comparator for ORDER BY keys. */
export function rowComparator(keys: readonly OrderKey[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = compareValues(a[k.column], b[k.column]);
      if (c !== 0) return k.direction === 'desc' ? -c : c;
    }
    return 0;
  };
}

/**
 * K-way merge of lists each sorted by `cmp`; stable (ties keep list order), stops after `take` rows.
 * A binary heap of list heads: O(total · log k).
 */
export function kWayMerge(lists: readonly Row[][], cmp: (a: Row, b: Row) => number, take = Number.POSITIVE_INFINITY): Row[] {
  const heap: Array<{ list: number; at: number }> = [];
  const less = (x: { list: number; at: number }, y: { list: number; at: number }): boolean => {
    const c = cmp(lists[x.list]![x.at]!, lists[y.list]![y.at]!);
    return c < 0 || (c === 0 && x.list < y.list);
  };
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) return;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  lists.forEach((l, list) => {
    if (l.length > 0) {
      heap.push({ list, at: 0 });
      up(heap.length - 1);
    }
  });
  const out: Row[] = [];
  while (heap.length > 0 && out.length < take) {
    const top = heap[0]!;
    out.push(lists[top.list]![top.at]!);
    if (top.at + 1 < lists[top.list]!.length) heap[0] = { list: top.list, at: top.at + 1 };
    else {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length > 0) down(0);
  }
  return out;
}

/** Numbers from drivers: SQLite numbers, PostgreSQL int8 as bigint and numeric as text. */
function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : Number(v);
}

const addNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);

interface Partial {
  group: Row;
  parts: Array<{ n: number; s: number | null; m: unknown }>;
}

/** Combines per-shard partial aggregates into one row per group. */
export function mergeAggregates(q: ShardQuery, shardRows: readonly Row[][]): Row[] {
  const aggs: readonly Aggregate[] = q.aggregates ?? [];
  const groups = q.groupBy ?? [];
  const merged = new Map<string, Partial>();
  for (const rows of shardRows) {
    for (const row of rows) {
      const key = JSON.stringify(groups.map((g) => (typeof row[g] === 'bigint' ? `${row[g] as bigint}n` : row[g])));
      let acc = merged.get(key);
      if (acc === undefined) {
        acc = { group: Object.fromEntries(groups.map((g) => [g, row[g]])), parts: aggs.map(() => ({ n: 0, s: null, m: null })) };
        merged.set(key, acc);
      }
      aggs.forEach((a, i) => {
        const p = acc.parts[i]!;
        p.n += num(row[`p${i}_n`]) ?? 0;
        p.s = addNullable(p.s, num(row[`p${i}_s`]));
        const m = row[`p${i}_m`];
        if (m !== null && m !== undefined && (p.m === null || compareValues(m, p.m) * (a.fn === 'min' ? -1 : 1) > 0)) p.m = m;
      });
    }
  }
  // Without GROUP BY, SQL answers one row even over no rows at all (COUNT 0, others NULL).
  if (groups.length === 0 && merged.size === 0) merged.set('[]', { group: {}, parts: aggs.map(() => ({ n: 0, s: null, m: null })) });
  return [...merged.values()].map(({ group, parts }) => {
    const out: Row = { ...group };
    aggs.forEach((a, i) => {
      const p = parts[i]!;
      out[a.as] = a.fn === 'count' ? p.n : a.fn === 'sum' ? p.s : a.fn === 'avg' ? (p.n === 0 || p.s === null ? null : p.s / p.n) : p.m;
    });
    return out;
  });
}
