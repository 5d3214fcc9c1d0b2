import { open, readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import { openSqlite } from '../storage/sqlite.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';

/**
 * Archives of retired partitions and segments, in one of two documented formats (docs/partitioning.md):
 *
 * - `jsonl`: per partition, a header line `{"tessera":"partition-archive","version":1,"source","partition",
 *   "bounds","columns":[{"name","type"}],"archivedAt"}`, one JSON array per row (each value is the
 *   database's text form of the column, or null), and an end line `{"end":"<partition>","rows":N}`.
 *   Several partitions follow each other in one file; a section without its end line is incomplete.
 * - `sqlite`: a SQLite file with a table per partition (the same column names, every value TEXT) and a
 *   `tessera_archive` table describing each (source, bounds, columns as JSON, rows, archived_at).
 *
 * Text values lose nothing: `value::text` casts back to the column's type in PostgreSQL.
 * @module
 */

/**
 * Where retired rows go: a JSON Lines file or a SQLite file (created if missing, appended to otherwise).
 * @example
 * ```ts
 * const target: ArchiveTarget = { format: 'jsonl', path: './archive/events-2026-10.jsonl' };
 * ```
 */
export interface ArchiveTarget {
  format: 'jsonl' | 'sqlite';
  path: string;
}

/** What an archive records about one partition besides its rows. */
export interface ArchiveSection {
  /** The table it belonged to, e.g. `public.metrics`. */
  source: string;
  partition: string;
  /** The partition's bounds as the database printed them, e.g. `FOR VALUES FROM ('…') TO ('…')`. */
  bounds: string;
  columns: Array<{ name: string; type: string }>;
}

/** One partition read back from an archive. */
export interface ArchivedPartition extends ArchiveSection {
  archivedAt: string;
  rows: Array<Array<string | null>>;
  /** False when the section has no end line (the archiving was interrupted). */
  complete: boolean;
}

/** A row source: pages of rows, each row one text value (or null) per column. */
export type RowPages = AsyncIterable<Array<Array<string | null>>>;

/** Writes sections to an archive; `section` resolves once the rows are durable (fsync / commit). */
export interface ArchiveWriter {
  section(meta: ArchiveSection, pages: RowPages): Promise<number>;
  close(): Promise<void>;
}

/**
 * Checks an archive target.
 * @example
 * ```ts
 * requireArchiveTarget({ format: 'sqlite', path: './archive.db' }, 'archive');
 * ```
 */
export function requireArchiveTarget(value: unknown, argument: string): ArchiveTarget {
  const o = requireOptionsObject(value, argument) as Partial<ArchiveTarget>;
  if (o.format !== 'jsonl' && o.format !== 'sqlite') {
    throw new InvalidArgumentError(`${argument}.format`, `${JSON.stringify(o.format)} is not jsonl or sqlite`, "Pass { format: 'jsonl', path } or { format: 'sqlite', path }.");
  }
  return { format: o.format, path: requireBoundedString(o.path, `${argument}.path`, 4096) };
}

/**
 * Opens an archive for writing.
 * @example
 * ```ts
 * const w = await openArchiveWriter({ format: 'jsonl', path: './old.jsonl' });
 * await w.section(meta, pages);
 * await w.close();
 * ```
 */
export async function openArchiveWriter(target: ArchiveTarget): Promise<ArchiveWriter> {
  return target.format === 'jsonl' ? jsonlWriter(target.path) : sqliteWriter(target.path);
}

async function jsonlWriter(path: string): Promise<ArchiveWriter> {
  const file = await open(path, 'a');
  return {
    async section(meta, pages) {
      await file.write(`${JSON.stringify({ tessera: 'partition-archive', version: 1, ...meta, archivedAt: new Date().toISOString() })}\n`);
      let rows = 0;
      for await (const page of pages) {
        if (page.length === 0) continue;
        await file.write(`${page.map((r) => JSON.stringify(r)).join('\n')}\n`);
        rows += page.length;
      }
      await file.write(`${JSON.stringify({ end: meta.partition, rows })}\n`);
      await file.sync();
      return rows;
    },
    close: () => file.close(),
  };
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function sqliteWriter(path: string): Promise<ArchiveWriter> {
  const db = openSqlite({ path });
  await db.exec('CREATE TABLE IF NOT EXISTS tessera_archive (partition TEXT PRIMARY KEY, source TEXT NOT NULL, bounds TEXT NOT NULL, columns TEXT NOT NULL, rows INTEGER, archived_at TEXT NOT NULL)');
  return {
    async section(meta, pages) {
      const table = quote(meta.partition);
      // A section left by an interrupted run is replaced, never appended to.
      await db.transaction(async (tx) => {
        await tx.exec(`DROP TABLE IF EXISTS ${table}`);
        await tx.exec(`CREATE TABLE ${table} (${meta.columns.map((c) => `${quote(c.name)} TEXT`).join(', ')})`);
        await tx.run('INSERT INTO tessera_archive (partition, source, bounds, columns, rows, archived_at) VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (partition) DO UPDATE SET rows = NULL, archived_at = excluded.archived_at', [
          meta.partition, meta.source, meta.bounds, JSON.stringify(meta.columns), new Date().toISOString(),
        ]);
      });
      const insert = `INSERT INTO ${table} VALUES (${meta.columns.map(() => '?').join(', ')})`;
      let rows = 0;
      for await (const page of pages) {
        await db.transaction(async (tx) => {
          for (const r of page) await tx.run(insert, r);
        });
        rows += page.length;
      }
      await db.run('UPDATE tessera_archive SET rows = ? WHERE partition = ?', [rows, meta.partition]);
      return rows;
    },
    close: () => db.close(),
  };
}

/**
 * Reads an archive back (either format, told apart by the file's first bytes).
 * @example
 * ```ts
 * for (const p of await readArchive('./old.jsonl')) console.log(p.partition, p.rows.length, p.complete);
 * ```
 */
export async function readArchive(path: string): Promise<ArchivedPartition[]> {
  requireBoundedString(path, 'path', 4096);
  const head = await readFile(path).then((b) => b.subarray(0, 16).toString('latin1'));
  return head.startsWith('SQLite format 3') ? readSqliteArchive(path) : readJsonlArchive(path);
}

async function readJsonlArchive(path: string): Promise<ArchivedPartition[]> {
  const out: ArchivedPartition[] = [];
  let current: ArchivedPartition | null = null;
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (line === '') continue;
    const value = JSON.parse(line) as unknown;
    if (Array.isArray(value)) current?.rows.push(value as Array<string | null>);
    else if ((value as { tessera?: string }).tessera === 'partition-archive') {
      const { source, partition, bounds, columns, archivedAt } = value as ArchivedPartition;
      current = { source, partition, bounds, columns, archivedAt, rows: [], complete: false };
      out.push(current);
    } else if (current !== null && (value as { end?: string }).end === current.partition) current.complete = true;
  }
  return out;
}

async function readSqliteArchive(path: string): Promise<ArchivedPartition[]> {
  const db = openSqlite({ path, readonly: true });
  try {
    const sections = await db.query<{ partition: string; source: string; bounds: string; columns: string; rows: number | null; archived_at: string }>(
      'SELECT partition, source, bounds, columns, rows, archived_at FROM tessera_archive ORDER BY archived_at, partition',
    );
    const out: ArchivedPartition[] = [];
    for (const s of sections) {
      const columns = JSON.parse(s.columns) as ArchiveSection['columns'];
      const rows = await db.query<Record<string, string | null>>(`SELECT * FROM ${quote(s.partition)} ORDER BY rowid`);
      out.push({
        source: s.source, partition: s.partition, bounds: s.bounds, columns, archivedAt: s.archived_at,
        rows: rows.map((r) => columns.map((c) => r[c.name] ?? null)), complete: s.rows !== null,
      });
    }
    return out;
  } finally {
    await db.close();
  }
}
