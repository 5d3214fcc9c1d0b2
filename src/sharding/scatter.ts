import { InvalidArgumentError, isTesseraError, ShardUnavailableError, UnknownShardError } from '../errors.js';
import type { SqlDialect, SqlExecutor } from '../storage/port.js';
import { requirePositiveInt } from '../support/validate.js';
import { kWayMerge, mergeAggregates, rowComparator } from './merge.js';
import { isAggregate, type ShardQuery, shardSql, validateQuery } from './query.js';

/**
 * Scatter-gather: one structured query run on every (or the named) shard in parallel, each with its own
 * timeout, and the answers merged exactly (see `merge.ts`). By default any shard failing fails the query;
 * with `partial: true` the merge covers the shards that answered and the failures are returned beside it.
 * @module
 */

/** A shard database a query can run on. */
export interface QueryTarget {
  id: string;
  db: SqlExecutor;
  dialect: SqlDialect;
}

/** Options of {@link scatterGather}. */
export interface ScatterOptions {
  /** Only these shards (default all). */
  shards?: string[];
  /** Per-shard time limit in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Return what answered plus per-shard errors instead of failing (default false). */
  partial?: boolean;
}

/** A merged answer. `errors` is empty unless `partial` let some shards fail. */
export interface ScatterResult<R = Record<string, unknown>> {
  rows: R[];
  answered: string[];
  errors: Array<{ shard: string; error: Error }>;
}

function withTimeout<T>(shard: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShardUnavailableError(shard, `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function asShardError(shard: string, e: unknown): Error {
  if (isTesseraError(e, 'SHARD_UNAVAILABLE')) return e;
  if (isTesseraError(e, 'STORAGE_ERROR') || isTesseraError(e, 'STORE_CLOSED')) return new ShardUnavailableError(shard, e.message, { cause: e });
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Runs `query` on the shards and merges: ORDER BY + LIMIT/OFFSET through a k-way merge of per-shard
 * sorted pages (each limited to `limit + offset`), COUNT/SUM/MIN/MAX/AVG (optionally grouped) from
 * per-shard partial aggregates. HAVING, DISTINCT and joins are refused with `UnsupportedQueryError`.
 *
 * @example
 * ```ts
 * const { rows } = await scatterGather(targets, {
 *   table: 'orders', groupBy: ['status'], aggregates: [{ fn: 'sum', column: 'total', as: 'revenue' }],
 *   orderBy: [{ column: 'revenue', direction: 'desc' }],
 * });
 * ```
 */
export async function scatterGather<R = Record<string, unknown>>(targets: readonly QueryTarget[], query: ShardQuery, opts: ScatterOptions = {}): Promise<ScatterResult<R>> {
  const q = validateQuery(query);
  const timeoutMs = opts.timeoutMs === undefined ? 5_000 : requirePositiveInt(opts.timeoutMs, 'timeoutMs');
  if (!Array.isArray(targets) || targets.length === 0) throw new InvalidArgumentError('targets', 'is empty', 'Pass at least one shard database.');
  const known = targets.map((t) => t.id);
  const chosen = (opts.shards ?? known).map((id) => {
    const t = targets.find((x) => x.id === id);
    if (t === undefined) throw new UnknownShardError(id, known);
    return t;
  });
  if (chosen.length === 0) throw new InvalidArgumentError('shards', 'is empty', 'Name at least one shard, or leave shards out for all.');
  const settled = await Promise.allSettled(
    chosen.map((t) => {
      const { sql, params } = shardSql(q, t.dialect);
      return withTimeout(t.id, timeoutMs, t.db.query(sql, params) as Promise<Array<Record<string, unknown>>>);
    }),
  );
  const answered: string[] = [];
  const lists: Array<Array<Record<string, unknown>>> = [];
  const errors: Array<{ shard: string; error: Error }> = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      answered.push(chosen[i]!.id);
      lists.push(s.value);
    } else errors.push({ shard: chosen[i]!.id, error: asShardError(chosen[i]!.id, s.reason) });
  });
  if (errors.length > 0 && opts.partial !== true) throw errors[0]!.error;
  const offset = q.offset ?? 0;
  const end = q.limit === undefined ? undefined : offset + q.limit;
  let rows: Array<Record<string, unknown>>;
  if (isAggregate(q)) {
    rows = mergeAggregates(q, lists);
    if (q.orderBy?.length) rows.sort(rowComparator(q.orderBy));
    rows = rows.slice(offset, end);
  } else {
    rows = kWayMerge(lists, rowComparator(q.orderBy ?? []), end).slice(offset);
  }
  return { rows: rows as R[], answered, errors };
}
