import { InvalidArgumentError, StaleShardMapError } from '../errors.js';
import { runMigrations } from '../storage/migrations.js';
import { openPostgres } from '../storage/postgres.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { openSqlite } from '../storage/sqlite.js';
import { type ShardMap, validateShardMap } from './map.js';

/**
 * The catalog database: the one place the shard map and the directory table live (SQLite or PostgreSQL).
 * The map row carries the epoch; every change is a compare-and-set on it, in one transaction with the
 * directory change, so two operators can never both "win" a change from the same epoch.
 * @module
 */

const MIGRATIONS = [
  {
    version: 1,
    name: 'shard map and directory',
    sql: `
      CREATE TABLE IF NOT EXISTS tessera_shard_catalog (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        epoch BIGINT  NOT NULL CHECK (epoch >= 1),
        map   TEXT    NOT NULL
      );
      CREATE TABLE IF NOT EXISTS tessera_shard_directory (
        shard_key TEXT PRIMARY KEY,
        shard     TEXT NOT NULL
      );`,
  },
];

/** The map and the directory as of one epoch. */
export interface CatalogState {
  map: ShardMap;
  directory: Map<string, string>;
}

/** Where the catalog lives: a SQLite file, or a PostgreSQL database (in `schema`, created if missing, else the default schema). */
export type CatalogConnection = { kind: 'sqlite'; path: string } | { kind: 'postgres'; connectionString: string; schema?: string };

/**
 * The shard catalog.
 * @example
 * ```ts
 * const catalog = await openShardCatalog({ kind: 'sqlite', path: './catalog.db' });
 * const state = await catalog.load();
 * await catalog.compareAndSet(state!.map.epoch, planAddShard(state!.map, newShard));
 * ```
 */
export class ShardCatalog {
  constructor(readonly db: SqlDriver) {}

  /** The current map and directory, or `null` before the first map is saved. */
  async load(exec: SqlExecutor = this.db): Promise<CatalogState | null> {
    const [row] = await exec.query<{ map: string }>('SELECT map FROM tessera_shard_catalog WHERE id = 1');
    if (row === undefined) return null;
    const rows = await exec.query<{ shard_key: string; shard: string }>('SELECT shard_key, shard FROM tessera_shard_directory');
    return { map: JSON.parse(row.map) as ShardMap, directory: new Map(rows.map((r) => [r.shard_key, r.shard])) };
  }

  /** The current epoch (0 before the first map), one small read: what a router polls to notice a change. */
  async epoch(): Promise<number> {
    const [row] = await this.db.query<{ epoch: number | bigint }>('SELECT epoch FROM tessera_shard_catalog WHERE id = 1');
    return row === undefined ? 0 : Number(row.epoch);
  }

  /** Saves `map` (epoch 1) unless a map exists already; returns whichever map is stored afterwards. */
  async initialize(map: ShardMap): Promise<CatalogState> {
    validateShardMap(map);
    return this.db.transaction(async (tx) => {
      const current = await this.load(tx);
      if (current !== null) return current;
      await tx.run('INSERT INTO tessera_shard_catalog (id, epoch, map) VALUES (1, ?, ?)', [map.epoch, JSON.stringify(map)]);
      return { map, directory: new Map() };
    });
  }

  /**
   * Replaces the map (and applies directory changes: a shard id pins a key, `null` unpins it) if the stored
   * epoch is still `expectedEpoch`; `next.epoch` must be `expectedEpoch + 1`. Throws
   * {@link StaleShardMapError} when another change came first, and InvalidShardMapError before writing a
   * map that breaks a rule.
   */
  async compareAndSet(expectedEpoch: number, next: ShardMap, directoryChanges: ReadonlyMap<string, string | null> = new Map()): Promise<CatalogState> {
    return this.db.transaction(async (tx) => {
      const current = await this.load(tx);
      const actual = current?.map.epoch ?? 0;
      if (actual !== expectedEpoch || next.epoch !== expectedEpoch + 1) {
        throw new StaleShardMapError(expectedEpoch, actual, `compare-and-set to epoch ${next.epoch} refused`);
      }
      const directory = new Map(current?.directory);
      for (const [key, shard] of directoryChanges) {
        if (shard === null) directory.delete(key);
        else directory.set(key, shard);
      }
      validateShardMap(next, directory);
      const { changes } = await tx.run('UPDATE tessera_shard_catalog SET epoch = ?, map = ? WHERE id = 1 AND epoch = ?', [next.epoch, JSON.stringify(next), expectedEpoch]);
      if (changes !== 1) throw new StaleShardMapError(expectedEpoch, actual, 'the epoch changed during the update');
      for (const [key, shard] of directoryChanges) {
        await tx.run('DELETE FROM tessera_shard_directory WHERE shard_key = ?', [key]);
        if (shard !== null) await tx.run('INSERT INTO tessera_shard_directory (shard_key, shard) VALUES (?, ?)', [key, shard]);
      }
      return { map: next, directory };
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * Opens (and creates) a shard catalog.
 * @example
 * ```ts
 * const catalog = await openShardCatalog({ kind: 'postgres', connectionString: 'postgres://…/catalog' });
 * ```
 */
export async function openShardCatalog(connection: CatalogConnection): Promise<ShardCatalog> {
  const schema = connection.kind === 'postgres' ? connection.schema : undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidArgumentError('catalog.schema', `"${schema}" is not a plain lower-case identifier`, "Pass a schema such as 'tessera_catalog'.");
  }
  const db =
    connection.kind === 'sqlite'
      ? openSqlite({ path: connection.path })
      : openPostgres({ connectionString: connection.connectionString, ...(schema === undefined ? {} : { searchPath: [schema] }) });
  try {
    if (schema !== undefined) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await runMigrations(db, 'tessera_shard_catalog_migrations', MIGRATIONS);
  } catch (e) {
    await db.close();
    throw e;
  }
  return new ShardCatalog(db);
}
