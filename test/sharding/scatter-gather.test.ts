import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Aggregate, type Condition, InvalidArgumentError, type QueryTarget, scatterGather, type ShardQuery, ShardUnavailableError, UnknownShardError,
  UnsupportedQueryError,
} from '../../src/index.js';
import { openSqlite, type SqliteDatabase } from '../../src/storage/sqlite.js';
import { bucketOf } from '../../src/support/hash.js';

interface Row {
  id: number;
  g: string;
  k: string;
  v: number | null;
  w: number;
}

const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT NOT NULL, k TEXT NOT NULL, v INTEGER, w INTEGER NOT NULL)';
let shards: SqliteDatabase[] = [];
let single: SqliteDatabase;

beforeAll(async () => {
  shards = [openSqlite(), openSqlite(), openSqlite()];
  single = openSqlite();
  for (const db of [...shards, single]) await db.exec(SCHEMA);
});
afterAll(async () => {
  for (const db of [...shards, single]) await db.close();
});

async function load(rows: Row[]): Promise<void> {
  for (const db of [...shards, single]) await db.exec('DELETE FROM t');
  for (const r of rows) {
    const params = [r.id, r.g, r.k, r.v, r.w];
    await shards[bucketOf(String(r.id), 3)]!.run('INSERT INTO t VALUES (?, ?, ?, ?, ?)', params);
    await single.run('INSERT INTO t VALUES (?, ?, ?, ?, ?)', params);
  }
}

const targets = (): QueryTarget[] => shards.map((db, i) => ({ id: `s${i}`, db, dialect: 'sqlite' }));

/** The same query as one SQL statement on the unsharded database, written independently of the library. */
function referenceSql(q: ShardQuery): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = (q.where ?? []).map((c) => {
    if (c.op === 'in') {
      params.push(...(c.value as unknown[]));
      return `${c.column} IN (${(c.value as unknown[]).map(() => '?').join(',')})`;
    }
    params.push(c.value);
    return `${c.column} ${c.op} ?`;
  });
  const aggs = (q.aggregates ?? []).map((a) => `${a.fn.toUpperCase()}(${a.column ?? '*'}) AS ${a.as}`);
  const cols = q.aggregates || q.groupBy ? [...(q.groupBy ?? []), ...aggs].join(', ') : (q.select ?? ['*']).join(', ');
  let sql = `SELECT ${cols} FROM t${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  if (q.groupBy?.length) sql += ` GROUP BY ${q.groupBy.join(', ')}`;
  if (q.orderBy?.length) sql += ` ORDER BY ${q.orderBy.map((o) => `${o.column} ${o.direction ?? 'asc'}`).join(', ')}`;
  if (q.limit !== undefined || q.offset !== undefined) sql += ` LIMIT ${q.limit ?? -1} OFFSET ${q.offset ?? 0}`;
  return { sql, params };
}

const rowsArb = fc
  .uniqueArray(
    fc.record({
      id: fc.integer({ min: 1, max: 100_000 }),
      g: fc.constantFrom('a', 'b', 'c', 'é', 'Z'),
      k: fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'B', '0', '~', 'ü') }),
      v: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
      w: fc.integer({ min: 0, max: 50 }),
    }),
    { selector: (r) => r.id, maxLength: 60 },
  );

const conditionArb: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ column: fc.constant('w'), op: fc.constantFrom('<', '<=', '>', '>=', '=', '!=') as fc.Arbitrary<Condition['op']>, value: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ column: fc.constant('g'), op: fc.constant('in' as const), value: fc.subarray(['a', 'b', 'c', 'é', 'Z'], { minLength: 1 }) }),
);
const pageArb = fc.record({ limit: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }), offset: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) });
const dir = fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'>;

const rowQueryArb: fc.Arbitrary<ShardQuery> = fc
  .record({
    where: fc.array(conditionArb, { maxLength: 2 }),
    keys: fc.uniqueArray(fc.constantFrom('g', 'k', 'v', 'w'), { maxLength: 3 }),
    dirs: fc.array(dir, { minLength: 4, maxLength: 4 }),
    idDir: dir,
    page: pageArb,
  })
  .map(({ where, keys, dirs, idDir, page }) => ({
    table: 't',
    where,
    // id last makes the order total, so both sides must agree row for row
    orderBy: [...keys.map((column, i) => ({ column, direction: dirs[i]! })), { column: 'id', direction: idDir }],
    ...(page.limit === undefined ? {} : { limit: page.limit }),
    ...(page.offset === undefined || page.limit === undefined ? {} : { offset: page.offset }),
  }));

const aggArb: fc.Arbitrary<Aggregate[]> = fc
  .uniqueArray(
    fc.oneof(
      fc.constant({ fn: 'count' as const }),
      fc.record({ fn: fc.constantFrom('count', 'sum', 'min', 'max', 'avg') as fc.Arbitrary<Aggregate['fn']>, column: fc.constantFrom('v', 'w', 'k') }),
    ),
    { minLength: 1, maxLength: 4, selector: (a) => `${a.fn}:${'column' in a ? a.column : '*'}` },
  )
  .map((list) => list.map((a, i): Aggregate => ({ ...a, as: `a${i}` })).filter((a) => !(a.column === 'k' && (a.fn === 'sum' || a.fn === 'avg'))))
  .filter((list) => list.length > 0);

const aggQueryArb: fc.Arbitrary<ShardQuery> = fc
  .record({ where: fc.array(conditionArb, { maxLength: 2 }), groupBy: fc.subarray(['g', 'w']), aggregates: aggArb, byAgg: fc.boolean(), d: dir, page: pageArb })
  .map(({ where, groupBy, aggregates, byAgg, d, page }) => ({
    table: 't',
    where,
    groupBy,
    aggregates,
    orderBy: [...(byAgg ? [{ column: aggregates[0]!.as, direction: d }] : []), ...groupBy.map((column) => ({ column, direction: d }))],
    ...(page.limit === undefined ? {} : { limit: page.limit }),
    ...(page.offset === undefined || page.limit === undefined ? {} : { offset: page.offset }),
  }));

async function expectSameAnswer(rows: Row[], q: ShardQuery): Promise<void> {
  await load(rows);
  const { rows: merged } = await scatterGather(targets(), q);
  const ref = referenceSql(q);
  const expected = await single.query(ref.sql, ref.params as never[]);
  // Ties in an aggregate sort (equal counts) with no group columns to break them: compare as multisets.
  const ordered = q.aggregates === undefined || (q.groupBy?.length ?? 0) > 0 || (q.orderBy?.length ?? 0) === 0;
  if (ordered) expect(merged).toEqual(expected);
  else expect(new Set(merged.map((r) => JSON.stringify(r)))).toEqual(new Set(expected.map((r) => JSON.stringify(r))));
}

describe('scatter-gather equals the same query on one unsharded database', () => {
  it('ORDER BY + LIMIT/OFFSET rows (k-way merge), generated rows and queries', async () => {
    await fc.assert(fc.asyncProperty(rowsArb, rowQueryArb, expectSameAnswer), { numRuns: 150 });
  });

  it('COUNT/SUM/MIN/MAX/AVG, grouped or not, sorted and paged after the merge', async () => {
    await fc.assert(fc.asyncProperty(rowsArb, aggQueryArb, expectSameAnswer), { numRuns: 150 });
  });
});

describe('what cannot be merged, bad input, failing shards', () => {
  it('refuses HAVING, DISTINCT, joins and unmergeable sorts with UnsupportedQueryError saying why', async () => {
    const bad: ShardQuery[] = [
      { table: 't', groupBy: ['g'], aggregates: [{ fn: 'count', as: 'n' }], having: 'n > 1' },
      { table: 't', select: ['g'], distinct: true },
      { table: 't', join: { table: 'u', on: 'u.id = t.id' } },
      { table: 't', groupBy: ['g'], aggregates: [{ fn: 'count', as: 'n' }], orderBy: [{ column: 'w' }] },
      { table: 't', select: ['id'], orderBy: [{ column: 'w' }] },
    ];
    for (const q of bad) {
      const err = await scatterGather(targets(), q).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedQueryError);
      expect((err as UnsupportedQueryError).reason.length).toBeGreaterThan(10);
      expect((err as UnsupportedQueryError).code).toBe('UNSUPPORTED_QUERY');
    }
  });

  it('refuses bad identifiers, limits and unknown shards with typed errors', async () => {
    await expect(scatterGather(targets(), { table: 't; DROP TABLE t' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(scatterGather(targets(), { table: 't', limit: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(scatterGather(targets(), { table: 't', where: [{ column: 'w', op: 'like' as '=', value: 1 }] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(scatterGather(targets(), { table: 't' }, { shards: ['s9'] })).rejects.toBeInstanceOf(UnknownShardError);
    await expect(scatterGather([], { table: 't' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('runs on the named shards only', async () => {
    await load([1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => ({ id, g: 'a', k: 'x', v: id, w: 1 })));
    const { rows, answered } = await scatterGather(targets(), { table: 't', aggregates: [{ fn: 'count', as: 'n' }] }, { shards: ['s1'] });
    expect(answered).toEqual(['s1']);
    expect(rows).toEqual([{ n: (await shards[1]!.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'))[0]!.n }]);
  });

  it('fails by default when a shard fails or times out; partial returns the others plus per-shard errors', async () => {
    await load([1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => ({ id, g: 'a', k: 'x', v: id, w: 1 })));
    const hanging: QueryTarget = { id: 'slow', dialect: 'sqlite', db: { query: () => new Promise(() => undefined), run: async () => ({ changes: 0 }), exec: async () => undefined } };
    const closed = openSqlite();
    await closed.close();
    const all = [...targets(), hanging, { id: 'closed', db: closed, dialect: 'sqlite' as const }];
    const q: ShardQuery = { table: 't', aggregates: [{ fn: 'count', as: 'n' }, { fn: 'sum', column: 'v', as: 's' }] };
    await expect(scatterGather(all, q, { timeoutMs: 50 })).rejects.toBeInstanceOf(ShardUnavailableError);
    const r = await scatterGather(all, q, { timeoutMs: 50, partial: true });
    expect(r.rows).toEqual([{ n: 9, s: 45 }]);
    expect(r.answered).toEqual(['s0', 's1', 's2']);
    expect(r.errors.map((e) => [e.shard, (e.error as ShardUnavailableError).code])).toEqual([['slow', 'SHARD_UNAVAILABLE'], ['closed', 'SHARD_UNAVAILABLE']]);
  });
});
