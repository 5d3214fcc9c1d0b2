import { isTesseraError, ShardUnavailableError } from '../errors.js';
import type { CommonStoreOptions } from '../eventstore/options.js';
import { openPostgresEventStore } from '../eventstore/postgres/open.js';
import { openSqliteEventStore } from '../eventstore/sqlite/open.js';
import { storeDatabase } from '../eventstore/store.js';
import type { AppendHook, EventStore } from '../eventstore/types.js';
import type { SqlDriver } from '../storage/port.js';
import type { ShardInfo } from './map.js';
import { type ContextTable, shardAppendHook } from './shard-log.js';

/**
 * One open shard: its own event store (SQLite file or PostgreSQL schema), that store's database for the
 * shard tables, and the table of pending append contexts its hook reads.
 * @module
 */

export interface ShardHandle {
  readonly info: ShardInfo;
  readonly store: EventStore;
  readonly db: SqlDriver;
  readonly contexts: ContextTable;
}

/** Common store options passed to every shard store (the sharded store generates ids itself). */
export type ShardStoreOptions = Omit<CommonStoreOptions, 'ids' | 'appendHooks'> & { appendHooks?: AppendHook[] };

/** Opens the event store of one shard with the shard hook in front of the user's hooks. */
export async function openShard(info: ShardInfo, options: ShardStoreOptions): Promise<ShardHandle> {
  const contexts: ContextTable = new Map();
  const { appendHooks, ...common } = options;
  const hooks = [shardAppendHook(info, contexts, appendHooks ?? [])];
  const c = info.connection;
  try {
    const store =
      c.kind === 'sqlite'
        ? await openSqliteEventStore({ ...common, path: c.path, ...(c.synchronous === undefined ? {} : { synchronous: c.synchronous }), appendHooks: hooks })
        : await openPostgresEventStore({
            ...common,
            connectionString: c.connectionString,
            ...(c.schema === undefined ? {} : { schema: c.schema }),
            ...(c.maxConnections === undefined ? {} : { maxConnections: c.maxConnections }),
            appendHooks: hooks,
          });
    return { info, store, db: storeDatabase(store), contexts };
  } catch (e) {
    throw unavailable(info.id, e);
  }
}

/**
 * A storage failure of one shard (server down, connection lost) as {@link ShardUnavailableError}, naming
 * the shard; every other error (conflicts, validation, stale map) passes unchanged.
 */
export function unavailable(shard: string, e: unknown): unknown {
  if (isTesseraError(e, 'STORAGE_ERROR') || (!isTesseraError(e) && e instanceof Error && /ECONNREFUSED|ECONNRESET|terminat|connect/i.test(e.message))) {
    return new ShardUnavailableError(shard, (e as Error).message, { cause: e });
  }
  return e;
}

/** Registers an append's context for the shard hook; returns the function that removes it. */
export function registerContext(table: ContextTable, firstId: string | undefined, ctx: ContextTable extends Map<string, Array<infer C>> ? C : never): () => void {
  if (firstId === undefined) return () => undefined;
  const list = table.get(firstId) ?? [];
  list.push(ctx);
  table.set(firstId, list);
  return () => {
    const i = list.indexOf(ctx);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) table.delete(firstId);
  };
}
