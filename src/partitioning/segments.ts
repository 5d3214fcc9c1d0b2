import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveMismatchError, InvalidArgumentError } from '../errors.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { openSqlite, type SqliteDatabase } from '../storage/sqlite.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';
import { openArchiveWriter, type RowPages } from './archive.js';
import { addIntervals, intervalStart, intervalSuffix, requireInterval, type TimeInterval } from './intervals.js';
import { requireIdent } from './pg-catalog.js';
import { requirePolicy, type RetentionPolicy, type RetiredPartition, selectExpired } from './retention.js';

/** Options of {@link SqliteSegments}. */
export interface SqliteSegmentsOptions {
  /** Folder of the segment files (created if missing). */
  dir: string;
  /** Segment files are `<dir>/<name>_<yyyymmdd[hh]>.db`. */
  name: string;
  interval: TimeInterval;
  /** Creates the tables of a new segment (runs on every segment this instance opens; make it idempotent). */
  setup?(db: SqlExecutor): Promise<void>;
  clock?: Clock;
}

/** One segment file. */
export interface SegmentInfo {
  name: string;
  path: string;
  from: Date;
  to: Date;
  bytes: number;
}

/**
 * Time partitioning for SQLite: one database file per interval, so retiring old data is deleting (or
 * archiving) whole files, never a long DELETE. The retention policy is the same as for PostgreSQL tables.
 *
 * @example
 * ```ts
 * const segments = new SqliteSegments({ dir: './data/metrics', name: 'metrics', interval: 'day',
 *   setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS m (at INTEGER, v REAL)') });
 * const db = await segments.segmentFor(Date.now());
 * await db.run('INSERT INTO m VALUES (?, ?)', [Date.now(), 1.5]);
 * await segments.applyRetention({ olderThanMs: 30 * 86_400_000, action: 'archive', archive: { format: 'sqlite', path: './old.db' } });
 * ```
 */
export class SqliteSegments {
  readonly dir: string;
  readonly name: string;
  readonly interval: TimeInterval;
  readonly #setup: SqliteSegmentsOptions['setup'];
  readonly #clock: Clock;
  readonly #open = new Map<string, Promise<SqliteDatabase>>();

  constructor(options: SqliteSegmentsOptions) {
    const o = requireOptionsObject(options, 'options') as Partial<SqliteSegmentsOptions>;
    this.dir = requireBoundedString(o.dir, 'dir', 4096);
    this.name = requireIdent(o.name, 'name');
    this.interval = requireInterval(o.interval, 'interval');
    if (o.setup !== undefined && typeof o.setup !== 'function') throw new InvalidArgumentError('setup', 'is not a function', 'Pass setup: (db) => db.exec(…).');
    this.#setup = o.setup;
    this.#clock = o.clock ?? systemClock;
    mkdirSync(this.dir, { recursive: true });
  }

  #segment(start: number): { name: string; path: string } {
    const name = `${this.name}_${intervalSuffix(start, this.interval)}`;
    return { name, path: join(this.dir, `${name}.db`) };
  }

  /** The segment holding `time` (opened, and set up, on first use). */
  async segmentFor(time: number | Date): Promise<SqlDriver> {
    const ms = typeof time === 'number' ? time : time.getTime();
    if (!Number.isFinite(ms)) throw new InvalidArgumentError('time', 'is not a valid time', 'Pass a Date or epoch milliseconds.');
    const { path } = this.#segment(intervalStart(ms, this.interval));
    let db = this.#open.get(path);
    if (db === undefined) {
      db = (async () => {
        const d = openSqlite({ path });
        await this.#setup?.(d);
        return d;
      })();
      this.#open.set(path, db);
    }
    return db;
  }

  /** Creates the segments from `behind` intervals before now to `ahead` after it; returns the new ones' names. */
  async ensureAhead(ahead = 1, behind = 0): Promise<string[]> {
    const now = intervalStart(this.#clock.now(), this.interval);
    const existing = new Set((await this.list()).map((s) => s.name));
    const created: string[] = [];
    for (let i = -behind; i <= ahead; i++) {
      const start = addIntervals(now, this.interval, i);
      if (!existing.has(this.#segment(start).name)) created.push(this.#segment(start).name);
      await this.segmentFor(start);
    }
    return created;
  }

  /** The segment files, oldest first. */
  async list(): Promise<SegmentInfo[]> {
    const pattern = new RegExp(`^${this.name}_(\\d{6}|\\d{8}|\\d{10})\\.db$`);
    const out: SegmentInfo[] = [];
    for (const file of readdirSync(this.dir)) {
      const m = pattern.exec(file);
      if (m === null) continue;
      const s = m[1]!;
      const from = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, s.length > 6 ? Number(s.slice(6, 8)) : 1, s.length > 8 ? Number(s.slice(8, 10)) : 0);
      if (this.#segment(from).name !== file.slice(0, -3)) continue; // another interval's file
      const path = join(this.dir, file);
      out.push({ name: file.slice(0, -3), path, from: new Date(from), to: new Date(addIntervals(from, this.interval, 1)), bytes: statSync(path).size });
    }
    return out.sort((a, b) => a.from.getTime() - b.from.getTime());
  }

  /**
   * Retires the segments a policy selects (never the current one): with `archive`, every table of the
   * segment becomes a section `<segment>.<table>`; the row counts are checked, then the file is deleted.
   */
  async applyRetention(policy: RetentionPolicy): Promise<RetiredPartition[]> {
    const p = requirePolicy(policy, false);
    const chosen = selectExpired(this.name, await this.list(), p, this.#clock.now());
    const writer = p.archive === null ? null : await openArchiveWriter(p.archive);
    const out: RetiredPartition[] = [];
    try {
      for (const seg of chosen) {
        await this.#forget(seg.path);
        const db = openSqlite({ path: seg.path });
        let rows = 0;
        try {
          const tables = await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
          for (const { name } of tables) {
            const cols = await db.query<{ name: string; type: string }>(`SELECT name, type FROM pragma_table_info('${name.replaceAll("'", "''")}')`);
            const [count] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`);
            if (writer !== null) {
              const archived = await writer.section({ source: `${this.name}/${name}`, partition: `${seg.name}.${name}`, bounds: `FROM ${seg.from.toISOString()} TO ${seg.to.toISOString()}`, columns: cols }, pages(db, name, cols.map((c) => c.name)));
              if (archived !== count!.n) throw new ArchiveMismatchError(`${seg.name}.${name}`, archived, count!.n);
            }
            rows += count!.n;
          }
        } finally {
          await db.close();
        }
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${seg.path}${suffix}`, { force: true });
        out.push({ partition: seg.name, from: seg.from, to: seg.to, rows, action: p.action === 'archive' ? 'archived' : 'dropped' });
        p.onProgress?.({ partition: seg.name, done: out.length, total: chosen.length, rows });
      }
    } finally {
      await writer?.close();
    }
    return out;
  }

  async #forget(path: string): Promise<void> {
    const db = this.#open.get(path);
    this.#open.delete(path);
    if (db !== undefined) await (await db).close();
  }

  /** Closes every segment this instance opened. */
  async close(): Promise<void> {
    for (const path of [...this.#open.keys()]) await this.#forget(path);
  }
}

async function* pages(db: SqlDriver, table: string, cols: string[]): RowPages {
  const select = cols.map((c, i) => `CAST("${c.replaceAll('"', '""')}" AS TEXT) AS c${i}`).join(', ');
  let after = 0;
  for (;;) {
    const rows = await db.query<Record<string, unknown>>(`SELECT rowid AS _rowid, ${select} FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT 1000`, [after]);
    yield rows.map((r) => cols.map((_, i) => (r[`c${i}`] === null ? null : String(r[`c${i}`]))));
    if (rows.length < 1000) return;
    after = Number(rows[rows.length - 1]!._rowid);
  }
}
