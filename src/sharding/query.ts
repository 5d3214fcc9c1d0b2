import { InvalidArgumentError, UnsupportedQueryError } from '../errors.js';
import type { SqlDialect, SqlValue } from '../storage/port.js';

/**
 * Scatter-gather queries as a small structured object rather than SQL text: what each shard runs is built
 * from it, and what the merge can answer exactly is known from it. Anything a merge of per-shard results
 * cannot answer correctly (HAVING, DISTINCT, joins) is refused with {@link UnsupportedQueryError}.
 * @module
 */

/** One condition; conditions of a query are ANDed. */
export interface Condition {
  column: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
  value: SqlValue | SqlValue[];
}

/** One aggregate. `avg` is computed from per-shard sums and counts, never by averaging averages. */
export interface Aggregate {
  fn: 'count' | 'sum' | 'min' | 'max' | 'avg';
  /** Required except for `count` (which then counts rows). */
  column?: string;
  /** Output column name. */
  as: string;
}

/** Sort key; on aggregate queries, a group-by column or an aggregate's `as`. */
export interface OrderKey {
  column: string;
  direction?: 'asc' | 'desc';
}

/**
 * A query run on every (or the named) shard and merged.
 * @example
 * ```ts
 * const top: ShardQuery = { table: 'orders', where: [{ column: 'status', op: '=', value: 'open' }],
 *   select: ['id', 'total'], orderBy: [{ column: 'total', direction: 'desc' }, { column: 'id' }], limit: 10 };
 * const perCountry: ShardQuery = { table: 'orders', groupBy: ['country'],
 *   aggregates: [{ fn: 'count', as: 'n' }, { fn: 'avg', column: 'total', as: 'avgTotal' }] };
 * ```
 */
export interface ShardQuery {
  table: string;
  where?: Condition[];
  /** Columns of a row query (default every column). */
  select?: string[];
  aggregates?: Aggregate[];
  groupBy?: string[];
  orderBy?: OrderKey[];
  limit?: number;
  offset?: number;
  /** Refused: a HAVING over merged groups is not offered. */
  having?: unknown;
  /** Refused: DISTINCT across shards needs every row in one place. */
  distinct?: unknown;
  /** Refused: joins across shards are not offered. */
  join?: unknown;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;
const OPS = new Set(['=', '!=', '<', '<=', '>', '>=', 'in']);

function ident(name: unknown, argument: string): string {
  if (typeof name !== 'string' || !IDENT.test(name)) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(name)} is not a plain identifier`, 'Use letters, digits and underscores (optionally schema.table).');
  }
  return name;
}

function count(value: unknown, argument: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidArgumentError(argument, `${String(value)} is not a non-negative integer`, `Pass ${argument} as 0, 1, 2, …`);
  return value as number;
}

/**
 * Validates a query; refuses what cannot be merged correctly.
 * @example
 * ```ts
 * validateQuery({ table: 't', distinct: true }); // throws UnsupportedQueryError
 * ```
 */
export function validateQuery(q: ShardQuery): ShardQuery {
  if (typeof q !== 'object' || q === null) throw new InvalidArgumentError('query', 'is not an object', "Pass { table: 'orders', … }.");
  if (q.having !== undefined) throw new UnsupportedQueryError('HAVING filters merged groups, and a shard only sees its part of each group', 'Filter the merged groups in your code, or aggregate into one read model.');
  if (q.distinct !== undefined) throw new UnsupportedQueryError('DISTINCT across shards needs every row in one place', 'Use groupBy on the columns (each group appears once after the merge), or keep the set in one database.');
  if (q.join !== undefined) throw new UnsupportedQueryError('joins across shards are not offered', 'Co-locate the joined rows with a shard key, or denormalize into one table per shard.');
  ident(q.table, 'table');
  for (const c of q.where ?? []) {
    ident(c?.column, 'where.column');
    if (!OPS.has(c.op)) throw new InvalidArgumentError('where.op', `"${String(c.op)}" is not supported`, 'Use =, !=, <, <=, >, >= or in.');
    if (c.op === 'in' && (!Array.isArray(c.value) || c.value.length === 0)) throw new InvalidArgumentError('where.value', 'in needs a non-empty array', "Pass value: ['a', 'b'].");
  }
  q.select?.forEach((c) => ident(c, 'select'));
  q.groupBy?.forEach((c) => ident(c, 'groupBy'));
  const outputs = new Set<string>(q.groupBy ?? []);
  for (const a of q.aggregates ?? []) {
    if (!['count', 'sum', 'min', 'max', 'avg'].includes(a?.fn)) throw new InvalidArgumentError('aggregates.fn', `"${String(a?.fn)}" is not supported`, 'Use count, sum, min, max or avg.');
    if (a.fn !== 'count' || a.column !== undefined) ident(a.column, 'aggregates.column');
    ident(a.as, 'aggregates.as');
    if (outputs.has(a.as)) throw new InvalidArgumentError('aggregates.as', `"${a.as}" is used twice`, 'Give every output column its own name.');
    outputs.add(a.as);
  }
  const aggregated = (q.aggregates?.length ?? 0) > 0 || (q.groupBy?.length ?? 0) > 0;
  if (aggregated && q.select !== undefined) throw new UnsupportedQueryError('select mixes plain columns into an aggregate query', 'Put the columns in groupBy.');
  for (const o of q.orderBy ?? []) {
    ident(o?.column, 'orderBy.column');
    if (o.direction !== undefined && o.direction !== 'asc' && o.direction !== 'desc') throw new InvalidArgumentError('orderBy.direction', `"${String(o.direction)}"`, "Use 'asc' or 'desc'.");
    if (aggregated && !outputs.has(o.column)) throw new UnsupportedQueryError(`ORDER BY ${o.column} is neither a group column nor an aggregate`, 'Sort by a groupBy column or an aggregate alias.');
  }
  for (const o of aggregated || q.select === undefined ? [] : q.orderBy ?? []) {
    if (!q.select!.includes(o.column)) throw new UnsupportedQueryError(`ORDER BY ${o.column} is not selected, so the merge cannot compare it`, 'Add the column to select.');
  }
  count(q.limit, 'limit');
  count(q.offset, 'offset');
  return q;
}

/** True when the query aggregates (or groups). */
export function isAggregate(q: ShardQuery): boolean {
  return (q.aggregates?.length ?? 0) > 0 || (q.groupBy?.length ?? 0) > 0;
}

function whereSql(q: ShardQuery): { sql: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const parts = (q.where ?? []).map((c) => {
    if (c.op === 'in') {
      const values = c.value as SqlValue[];
      params.push(...values);
      return `${c.column} IN (${values.map(() => '?').join(', ')})`;
    }
    params.push(c.value as SqlValue);
    return `${c.column} ${c.op === '!=' ? '<>' : c.op} ?`;
  });
  return { sql: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** Per-shard aggregate columns: what the merge needs (avg as sum and count). */
export function partialColumns(a: Aggregate, i: number): string[] {
  switch (a.fn) {
    case 'count':
      return [`COUNT(${a.column ?? '*'}) AS p${i}_n`];
    case 'sum':
      return [`SUM(${a.column}) AS p${i}_s`];
    case 'min':
      return [`MIN(${a.column}) AS p${i}_m`];
    case 'max':
      return [`MAX(${a.column}) AS p${i}_m`];
    case 'avg':
      return [`SUM(${a.column}) AS p${i}_s`, `COUNT(${a.column}) AS p${i}_n`];
  }
}

/**
 * The statement each shard runs. Row queries push ORDER BY down and LIMIT as `limit + offset` (each shard
 * returns its first rows; the k-way merge picks the global ones). Aggregate queries return partial
 * aggregates per group, merged afterwards (sorting and paging happen after the merge).
 */
export function shardSql(q: ShardQuery, dialect: SqlDialect): { sql: string; params: SqlValue[] } {
  const where = whereSql(q);
  if (isAggregate(q)) {
    const groups = q.groupBy ?? [];
    const cols = [...groups, ...(q.aggregates ?? []).flatMap(partialColumns)];
    const group = groups.length > 0 ? ` GROUP BY ${groups.join(', ')}` : '';
    return { sql: `SELECT ${cols.join(', ')} FROM ${q.table}${where.sql}${group}`, params: where.params };
  }
  const cols = q.select && q.select.length > 0 ? q.select.join(', ') : '*';
  const nulls = (dir: 'asc' | 'desc') => (dialect === 'postgres' ? (dir === 'asc' ? ' NULLS FIRST' : ' NULLS LAST') : '');
  const order = q.orderBy?.length ? ` ORDER BY ${q.orderBy.map((o) => `${o.column} ${(o.direction ?? 'asc').toUpperCase()}${nulls(o.direction ?? 'asc')}`).join(', ')}` : '';
  const take = q.limit === undefined ? '' : ` LIMIT ${q.limit + (q.offset ?? 0)}`;
  return { sql: `SELECT ${cols} FROM ${q.table}${where.sql}${order}${take}`, params: where.params };
}
