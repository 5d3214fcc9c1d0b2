import { ArchiveMismatchError, InvalidArgumentError, NotPartitionedError, OverlappingPartitionError } from '../errors.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireOptionsObject } from '../support/validate.js';
import { openArchiveWriter, type RowPages } from './archive.js';
import { addIntervals, intervalStart, intervalSuffix, requireInterval, type TimeInterval } from './intervals.js';
import { columns, literal, type PartitionInfo, partitioning, partitions, requireIdent } from './pg-catalog.js';
import { requirePolicy, type RetentionPolicy, type RetiredPartition, selectExpired } from './retention.js';

const PAGE = 1_000;

/** Options of {@link PgPartitionManager}. */
export interface PgPartitionManagerOptions {
  /** Schema of the tables (default `public`). */
  schema?: string;
  clock?: Clock;
}

/**
 * Declarative table partitioning on PostgreSQL: range by time (hour, day, week, month, in UTC) and list by
 * category. It creates time partitions ahead of time, adds list partitions, refuses overlapping
 * definitions before changing anything, and applies a retention policy (archive, then detach and drop in
 * one transaction that first checks the archived row count).
 *
 * @example
 * ```ts
 * const pm = new PgPartitionManager(openPostgres({ connectionString }), { schema: 'app' });
 * await pm.createPartitionedTable('metrics', 'id bigint, at timestamptz NOT NULL, v double precision', { kind: 'range', column: 'at' });
 * await pm.ensureTimePartitions('metrics', { interval: 'day', ahead: 7 });
 * await pm.applyRetention('metrics', { olderThanMs: 30 * 86_400_000, action: 'archive', archive: { format: 'jsonl', path: './metrics-old.jsonl' } });
 * ```
 */
export class PgPartitionManager {
  readonly schema: string;
  readonly #clock: Clock;

  constructor(private readonly db: SqlDriver, options?: PgPartitionManagerOptions) {
    if (db?.dialect !== 'postgres') throw new InvalidArgumentError('db', 'is not a PostgreSQL driver', 'Pass openPostgres({ connectionString }); on SQLite use SqliteSegments.');
    const o = requireOptionsObject(options, 'options') as PgPartitionManagerOptions;
    this.schema = o.schema === undefined ? 'public' : requireIdent(o.schema, 'schema');
    this.#clock = o.clock ?? systemClock;
  }

  #q(name: string): string {
    return `"${this.schema}"."${name}"`;
  }

  async #locked<T>(table: string, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      // One partition change per table at a time, across processes.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', [`tessera-partitions:${this.schema}.${table}`]);
      return fn(tx);
    });
  }

  /** Creates `table` (if missing) partitioned by RANGE or LIST on `column`; `columnsSql` is the column list. */
  async createPartitionedTable(table: string, columnsSql: string, by: { kind: 'range' | 'list'; column: string }): Promise<void> {
    requireIdent(table, 'table');
    requireIdent(by?.column, 'by.column');
    if (by.kind !== 'range' && by.kind !== 'list') throw new InvalidArgumentError('by.kind', `${JSON.stringify(by.kind)} is not range or list`, "Pass { kind: 'range', column } or { kind: 'list', column }.");
    if (typeof columnsSql !== 'string' || columnsSql.trim() === '') throw new InvalidArgumentError('columnsSql', 'is empty', "Pass the column list, e.g. 'id bigint, at timestamptz NOT NULL'.");
    await this.db.exec(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"; CREATE TABLE IF NOT EXISTS ${this.#q(table)} (${columnsSql}) PARTITION BY ${by.kind.toUpperCase()} ("${by.column}")`);
  }

  /** The partitions of `table`, oldest range first. */
  async listPartitions(table: string): Promise<PartitionInfo[]> {
    requireIdent(table, 'table');
    await partitioning(this.db, this.schema, table);
    return partitions(this.db, this.schema, table);
  }

  /** Rows in one partition (an exact count). */
  async countRows(partition: string): Promise<number> {
    const [row] = await this.db.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${this.#q(requireIdent(partition, 'partition'))}`);
    return Number(row!.n);
  }

  /**
   * Makes sure the range partitions from `behind` intervals before now to `ahead` intervals after it exist
   * (named `<table>_p<yyyymmdd[hh]>`); returns the names it created. Refuses, creating none, when one of
   * them would overlap an existing partition with other bounds.
   */
  async ensureTimePartitions(table: string, options: { interval: TimeInterval; ahead?: number; behind?: number }): Promise<string[]> {
    requireIdent(table, 'table');
    const o = requireOptionsObject(options, 'options') as { interval: TimeInterval; ahead?: number; behind?: number };
    const interval = requireInterval(o.interval, 'interval');
    const ahead = o.ahead ?? 3;
    const behind = o.behind ?? 0;
    for (const [n, arg] of [[ahead, 'ahead'], [behind, 'behind']] as const) {
      if (!Number.isSafeInteger(n) || n < 0 || n > 1_000) throw new InvalidArgumentError(arg, `${String(n)} is not a whole number from 0 to 1000`, `Pass ${arg}: 3.`);
    }
    const current = intervalStart(this.#clock.now(), interval);
    return this.#locked(table, async (tx) => {
      const how = await partitioning(tx, this.schema, table);
      if (how.strategy !== 'range') throw new NotPartitionedError(`${this.schema}.${table}`, `is partitioned by ${how.strategy}, not by range`);
      const existing = (await partitions(tx, this.schema, table)).filter((p) => p.kind === 'range');
      const wanted: Array<{ name: string; from: number; to: number }> = [];
      for (let i = -behind; i <= ahead; i++) {
        const from = addIntervals(current, interval, i);
        const to = addIntervals(current, interval, i + 1);
        const same = existing.find((p) => p.from?.getTime() === from && p.to?.getTime() === to);
        if (same !== undefined) continue;
        const clash = existing.find((p) => (p.from === null || p.from.getTime() < to) && (p.to === null || from < p.to.getTime()));
        const name = `${table}_p${intervalSuffix(from, interval)}`;
        if (clash !== undefined) throw new OverlappingPartitionError(`${this.schema}.${table}`, `${name} [${new Date(from).toISOString()}, ${new Date(to).toISOString()})`, `${clash.name} ${clash.bounds}`);
        wanted.push({ name, from, to });
      }
      for (const w of wanted) {
        // Not CREATE TABLE … PARTITION OF: that takes an ACCESS EXCLUSIVE lock on the parent, so it waits for
        // every open transaction that read or wrote the table and blocks all new ones meanwhile. A new table
        // attached afterwards needs only SHARE UPDATE EXCLUSIVE: reads and writes of the table go on.
        await tx.exec(`CREATE TABLE ${this.#q(w.name)} (LIKE ${this.#q(table)} INCLUDING ALL)`);
        await tx.exec(`ALTER TABLE ${this.#q(table)} ATTACH PARTITION ${this.#q(w.name)} FOR VALUES FROM (${literal(new Date(w.from).toISOString())}) TO (${literal(new Date(w.to).toISOString())})`);
      }
      return wanted.map((w) => w.name);
    });
  }

  /** Adds a list partition holding `values`; refuses a value another partition already holds. */
  async addListPartition(table: string, name: string, values: string[]): Promise<void> {
    requireIdent(table, 'table');
    requireIdent(name, 'name');
    if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
      throw new InvalidArgumentError('values', 'is not a non-empty array of strings', "Pass the categories, e.g. ['orders', 'payments'].");
    }
    await this.#locked(table, async (tx) => {
      const how = await partitioning(tx, this.schema, table);
      if (how.strategy !== 'list') throw new NotPartitionedError(`${this.schema}.${table}`, `is partitioned by ${how.strategy}, not by list`);
      for (const p of await partitions(tx, this.schema, table)) {
        const shared = values.filter((v) => p.values.includes(v));
        if (p.name === name || shared.length > 0) throw new OverlappingPartitionError(`${this.schema}.${table}`, `${name} (${values.join(', ')})`, `${p.name} ${p.bounds}`);
      }
      await tx.exec(`CREATE TABLE ${this.#q(name)} PARTITION OF ${this.#q(table)} FOR VALUES IN (${values.map(literal).join(', ')})`);
    });
  }

  /**
   * Retires the partitions a policy selects, oldest first. With `archive`, each one's rows are written
   * (and fsynced or committed) first; then one transaction detaches it, checks that it holds exactly the
   * archived rows, and drops it. A run that stops half-way leaves each partition attached or fully gone.
   */
  async applyRetention(table: string, policy: RetentionPolicy): Promise<RetiredPartition[]> {
    requireIdent(table, 'table');
    const p = requirePolicy(policy, true);
    await partitioning(this.db, this.schema, table);
    const chosen = selectExpired(`${this.schema}.${table}`, await partitions(this.db, this.schema, table), p, this.#clock.now());
    const writer = p.archive === null ? null : await openArchiveWriter(p.archive);
    const out: RetiredPartition[] = [];
    try {
      for (const part of chosen) {
        const archived = writer === null ? null : await writer.section(
          { source: `${this.schema}.${table}`, partition: part.name, bounds: part.bounds, columns: await columns(this.db, this.schema, part.name) },
          this.#pages(part.name),
        );
        const rows = await this.#locked(table, async (tx) => {
          await tx.exec(`ALTER TABLE ${this.#q(table)} DETACH PARTITION ${this.#q(part.name)}`);
          const [row] = await tx.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${this.#q(part.name)}`);
          const found = Number(row!.n);
          if (archived !== null && archived !== found) throw new ArchiveMismatchError(part.name, archived, found);
          if (p.action !== 'detach') await tx.exec(`DROP TABLE ${this.#q(part.name)}`);
          return found;
        });
        out.push({ partition: part.name, from: part.from, to: part.to, rows, action: p.action === 'drop' ? 'dropped' : p.action === 'archive' ? 'archived' : 'detached' });
        p.onProgress?.({ partition: part.name, done: out.length, total: chosen.length, rows });
      }
    } finally {
      await writer?.close();
    }
    return out;
  }

  /** A partition's rows as text, in pages keyed by ctid (no cursor, no long transaction). */
  async *#pages(partition: string): RowPages {
    const cols = await columns(this.db, this.schema, partition);
    const select = cols.map((c, i) => `"${c.name.replaceAll('"', '""')}"::text AS c${i}`).join(', ');
    let after = '(0,0)';
    for (;;) {
      const rows = await this.db.query<Record<string, string | null>>(`SELECT ctid::text AS _ctid, ${select} FROM ${this.#q(partition)} WHERE ctid > ?::tid ORDER BY ctid LIMIT ${PAGE}`, [after]);
      yield rows.map((r) => cols.map((_, i) => r[`c${i}`] ?? null));
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!._ctid!;
    }
  }
}
