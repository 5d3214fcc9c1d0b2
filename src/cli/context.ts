import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { openSqliteEventStore } from '../eventstore/sqlite/open.js';
import type { EventStore } from '../eventstore/types.js';

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
  db: string;
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
  const o = cmd.optsWithGlobals<{ db?: string; json?: boolean }>();
  return { db: o.db ?? DEFAULT_DB_PATH, json: o.json === true };
}

/**
 * Opens the store at `--db`, runs `fn`, and closes the store even when `fn` throws.
 * `'create'` makes the file (and its folder) when missing; `'existing'` refuses a missing file instead of
 * silently creating an empty database in the wrong place.
 *
 * @example
 * ```ts
 * await withStore(cmd, 'existing', async (store) => writeLine(String(await store.streamExists('cart-1'))));
 * ```
 */
export async function withStore<T>(
  cmd: Command,
  mode: 'create' | 'existing',
  fn: (store: EventStore, options: GlobalOptions & { path: string }) => Promise<T>,
): Promise<T> {
  const g = globalOptions(cmd);
  const store = await openStore(g.db, mode);
  try {
    return await fn(store, { ...g, path: resolve(g.db) });
  } finally {
    await store.close();
  }
}

/**
 * Opens the event store file at `db` (see {@link withStore} for `mode`).
 *
 * @example
 * ```ts
 * const store = await openStore('./data/tessera.db', 'create');
 * ```
 */
export async function openStore(db: string, mode: 'create' | 'existing'): Promise<EventStore> {
  if (db.length === 0) {
    throw new InvalidArgumentError('--db', 'is empty', 'Pass a file path, e.g. --db ./data/tessera.db.');
  }
  const path = resolve(db);
  if (mode === 'existing' && !existsSync(path)) {
    throw new InvalidArgumentError('--db', `no database at ${path}`, 'Append an event first (tessera append <stream> <type> <json>), or point --db (or TESSERA_DB) at an existing file.');
  }
  if (mode === 'create') mkdirSync(dirname(path), { recursive: true });
  return openSqliteEventStore({ path });
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
