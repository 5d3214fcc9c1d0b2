import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { openPostgresEventStore } from '../eventstore/postgres/open.js';
import { DEFAULT_PG_SCHEMA, validateSchemaName } from '../eventstore/postgres/schema.js';
import { openSqliteEventStore } from '../eventstore/sqlite/open.js';
import type { EventStore } from '../eventstore/types.js';
import { PostgresDatabase } from '../storage/postgres.js';
import { openSqlite } from '../storage/sqlite.js';
import type { SqlDriver } from '../storage/port.js';

/**
 * What every command shares: the global options, opening and closing the store, and writing output with
 * backpressure (so `tessera read | less` on a big log keeps flat memory).
 *
 * @example
 * ```ts
 * .action(async (opts, cmd: Command) => {
 *   await withStore(cmd, 'existing', async (store, g) => { await writeLine(String(await store.streamExists('a'))); });
 * });
 * ```
 * @module
 */

/**
 * Where the CLI keeps its events unless `--db` or `TESSERA_DB` says otherwise.
 *
 * @example
 * ```ts
 * openStore(DEFAULT_DB_PATH, 'create');
 * ```
 */
export const DEFAULT_DB_PATH = './data/tessera.db';

/**
 * Options defined on the root program, visible to every command.
 *
 * @example
 * ```ts
 * const { db, json }: GlobalOptions = globalOptions(cmd);
 * ```
 */
export interface GlobalOptions {
  /** A SQLite file path, or a `postgres://` (`postgresql://`) URL. */
  db: string;
  /** The PostgreSQL schema holding the store (ignored for SQLite files). */
  schema: string;
  json: boolean;
}

/**
 * The root program's options as seen from a (sub)command.
 *
 * @example
 * ```ts
 * if (globalOptions(cmd).json) await writeLine(jsonLine(result));
 * ```
 */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ db?: string; schema?: string; json?: boolean }>();
  return { db: o.db ?? DEFAULT_DB_PATH, schema: o.schema ?? DEFAULT_PG_SCHEMA, json: o.json === true };
}

/**
 * Where `--db` points: a SQLite file or a schema of a PostgreSQL database. `label` names it in output
 * without the password.
 *
 * @example
 * ```ts
 * const target = storeTarget({ db: 'postgres://app@db:5432/shop', schema: 'orders', json: false });
 * target.kind; // 'postgres'
 * ```
 */
export type StoreTarget =
  | { kind: 'sqlite'; path: string; label: string }
  | { kind: 'postgres'; url: string; schema: string; label: string };

const PG_URL = /^postgres(ql)?:\/\//i;

/**
 * Classifies `--db` (and validates `--schema` for PostgreSQL) without touching the database.
 *
 * @example
 * ```ts
 * storeTarget({ db: './data/tessera.db', schema: 'tessera', json: false }); // { kind: 'sqlite', path: '/abs/data/tessera.db', … }
 * ```
 */
export function storeTarget(g: GlobalOptions): StoreTarget {
  if (g.db.length === 0) {
    throw new InvalidArgumentError('--db', 'is empty', 'Pass a file path, e.g. --db ./data/tessera.db, or a postgres:// URL.');
  }
  if (!PG_URL.test(g.db)) {
    const path = resolve(g.db);
    return { kind: 'sqlite', path, label: path };
  }
  let url: URL;
  try {
    url = new URL(g.db);
  } catch {
    throw new InvalidArgumentError('--db', 'is not a valid postgres:// URL', 'Use postgres://user:password@host:5432/database (percent-encode special characters in the password).');
  }
  const schema = validateSchemaName(g.schema);
  if (url.password !== '') url.password = '***';
  return { kind: 'postgres', url: g.db, schema, label: `${url.toString()} (schema ${schema})` };
}

/**
 * Opens the store at `--db`, runs `fn`, and closes the store even when `fn` throws.
 * `'create'` makes the file (and its folder), or the PostgreSQL schema, when missing; `'existing'` refuses a
 * missing one instead of silently creating an empty database in the wrong place.
 *
 * @example
 * ```ts
 * await withStore(cmd, 'existing', async (store) => writeLine(String(await store.streamExists('cart-1'))));
 * ```
 */
export async function withStore<T>(
  cmd: Command,
  mode: 'create' | 'existing',
  fn: (store: EventStore, options: GlobalOptions & { path: string; target: StoreTarget }) => Promise<T>,
): Promise<T> {
  const g = globalOptions(cmd);
  const target = storeTarget(g);
  const store = await openTarget(target, mode);
  try {
    return await fn(store, { ...g, path: target.label, target });
  } finally {
    await store.close();
  }
}

/**
 * Opens the event store at `db`, a file path or a `postgres://` URL (see {@link withStore} for `mode`).
 *
 * @example
 * ```ts
 * const store = await openStore('./data/tessera.db', 'create');
 * ```
 */
export async function openStore(db: string, mode: 'create' | 'existing', schema: string = DEFAULT_PG_SCHEMA): Promise<EventStore> {
  return openTarget(storeTarget({ db, schema, json: false }), mode);
}

/**
 * Opens the event store a {@link StoreTarget} names.
 *
 * @example
 * ```ts
 * const store = await openTarget(storeTarget(globalOptions(cmd)), 'existing');
 * ```
 */
export async function openTarget(target: StoreTarget, mode: 'create' | 'existing'): Promise<EventStore> {
  if (mode === 'existing' && !(await targetExists(target))) {
    const where = target.kind === 'sqlite' ? `no database at ${target.path}` : `no event store in ${target.label}`;
    throw new InvalidArgumentError('--db', where, 'Run tessera init (or append an event) first, or point --db (or TESSERA_DB) at an existing store.');
  }
  if (target.kind === 'postgres') return openPostgresEventStore({ connectionString: target.url, schema: target.schema, maxConnections: 4 });
  if (mode === 'create') mkdirSync(dirname(target.path), { recursive: true });
  return openSqliteEventStore({ path: target.path });
}

/**
 * Whether the store exists: the file, or the schema's `events` table.
 *
 * @example
 * ```ts
 * if (!(await targetExists(target))) note('a new store will be created');
 * ```
 */
export async function targetExists(target: StoreTarget): Promise<boolean> {
  if (target.kind === 'sqlite') return existsSync(target.path);
  return withRawDriver(target, async (db) => {
    const [row] = await db.query<{ t: string | null }>('SELECT to_regclass(?)::text AS t', [`"${target.schema}".events`]);
    return row?.t != null;
  });
}

/**
 * A plain SQL connection to the target (no event store opened, nothing created), closed after `fn`.
 *
 * @example
 * ```ts
 * const rows = await withRawDriver(target, (db) => db.query('SELECT 1 AS one'));
 * ```
 */
export async function withRawDriver<T>(target: StoreTarget, fn: (db: SqlDriver) => Promise<T>): Promise<T> {
  const db: SqlDriver = target.kind === 'sqlite'
    ? openSqlite({ path: target.path })
    : new PostgresDatabase({ connectionString: target.url, searchPath: [target.schema, 'public'], maxConnections: 1 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Writes one line to stdout, waiting when the pipe is full.
 *
 * @example
 * ```ts
 * for (const e of events) await writeLine(jsonLine(eventToJson(e)));
 * ```
 */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}

/**
 * Writes one line to stderr (progress and notes that must not mix with the data on stdout).
 *
 * @example
 * ```ts
 * note('3 events from the global log');
 * ```
 */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * How wide text output may be: the terminal's width, or 120 columns when piped.
 *
 * @example
 * ```ts
 * const table = EventTable.fit(page, outputWidth());
 * ```
 */
export function outputWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 120;
}
