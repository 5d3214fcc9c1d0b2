import { InvalidArgumentError, NotPartitionedError } from '../errors.js';
import type { SqlExecutor } from '../storage/port.js';

/**
 * Reading PostgreSQL's catalog about a partitioned table: how it is partitioned, its partitions and their
 * bounds (converted to epoch milliseconds by the server, so time zones never matter), its columns.
 * @module
 */

const IDENT = /^[a-z_][a-z0-9_]{0,49}$/;

/** Checks a lower-case SQL identifier (≤ 50 characters, so `<table>_p<yyyymmddhh>` fits PostgreSQL's 63). */
export function requireIdent(value: unknown, argument: string): string {
  if (typeof value !== 'string' || !IDENT.test(value)) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} is not a lower-case SQL identifier of at most 50 characters`, 'Use letters, digits and underscores, e.g. metrics_daily.');
  }
  return value;
}

/** A SQL string literal. */
export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** One partition of a partitioned table, as {@link PgPartitionManager.listPartitions} reports it. */
export interface PartitionInfo {
  name: string;
  kind: 'range' | 'list' | 'default';
  /** As PostgreSQL prints them, e.g. `FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00')`. */
  bounds: string;
  /** Range partitions: inclusive lower bound (null for MINVALUE). */
  from: Date | null;
  /** Range partitions: exclusive upper bound (null for MAXVALUE). */
  to: Date | null;
  /** List partitions: the values it holds. */
  values: string[];
}

/** How a table is partitioned. */
export interface Partitioning {
  strategy: 'range' | 'list' | 'hash';
  column: string;
  columnType: string;
}

export async function partitioning(db: SqlExecutor, schema: string, table: string): Promise<Partitioning> {
  const [row] = await db.query<{ strat: string; col: string; typ: string }>(
    `SELECT pt.partstrat AS strat, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS typ
     FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
     WHERE n.nspname = ? AND c.relname = ?`,
    [schema, table],
  );
  if (row === undefined) throw new NotPartitionedError(`${schema}.${table}`, 'does not exist or is not partitioned');
  return { strategy: row.strat === 'r' ? 'range' : row.strat === 'l' ? 'list' : 'hash', column: row.col, columnType: row.typ };
}

export async function partitions(db: SqlExecutor, schema: string, table: string): Promise<PartitionInfo[]> {
  const rows = await db.query<{ name: string; bounds: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bounds
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = ? AND p.relname = ?`,
    [schema, table],
  );
  const out: PartitionInfo[] = [];
  for (const r of rows) {
    if (r.bounds === 'DEFAULT') {
      out.push({ name: r.name, kind: 'default', bounds: r.bounds, from: null, to: null, values: [] });
      continue;
    }
    const range = /^FOR VALUES FROM \((.*)\) TO \((.*)\)$/.exec(r.bounds);
    if (range !== null) {
      out.push({ name: r.name, kind: 'range', bounds: r.bounds, from: await toDate(db, range[1]!), to: await toDate(db, range[2]!), values: [] });
      continue;
    }
    const list = /^FOR VALUES IN \((.*)\)$/.exec(r.bounds);
    const values = list === null ? [] : [...list[1]!.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
    out.push({ name: r.name, kind: 'list', bounds: r.bounds, from: null, to: null, values });
  }
  return out.sort((a, b) => (a.from?.getTime() ?? 0) - (b.from?.getTime() ?? 0) || (a.name < b.name ? -1 : 1));
}

async function toDate(db: SqlExecutor, bound: string): Promise<Date | null> {
  if (bound === 'MINVALUE' || bound === 'MAXVALUE') return null;
  const text = /^'(.*)'$/.exec(bound)?.[1];
  if (text === undefined) return null;
  const [row] = await db.query<{ ms: unknown }>('SELECT (extract(epoch from ?::timestamptz) * 1000)::float8 AS ms', [text]);
  return new Date(Number(row!.ms));
}

/** The columns of a table, in order, with their SQL types. */
export async function columns(db: SqlExecutor, schema: string, table: string): Promise<Array<{ name: string; type: string }>> {
  return db.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schema, table],
  );
}
