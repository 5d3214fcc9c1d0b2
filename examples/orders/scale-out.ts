/**
 * The scale-out side of the orders demo, all on embedded SQLite next to the orders database (no server):
 *
 * - a `notifications` consumer group (8 partitions, 2 in-process members) whose handler keeps the
 *   `order_notifications` read model in the store's own database, in the transaction that moves each
 *   partition checkpoint (exactly-once effect);
 * - a log-shipping follower copying the whole global log into `<dir>/replica.db`, with its checkpoint there
 *   (and, on PostgreSQL with streaming replicas named, the replica set's monitor: lag, health, rotation);
 * - a sharded copy of every stream over 3 SQLite files in `<dir>/shards/` (hash of the stream id, catalog in
 *   `<dir>/shards/catalog.db`), fed by a `shard-copy` consumer group (at-least-once, made idempotent by
 *   appending each event with its own id at its source stream version). The orders saga stays on the single
 *   store: sagas need one database, which a sharded store is not.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  type ConsumerGroup, type ConsumerHandler, type EventStore, isTesseraError, openConsumerGroup, openLogShippingFollower, openReplicaSet, openShardedEventStore, type ReplicaSet,
  type ShardedEventStore, storeDatabase,
} from '../../src/index.js';
import type { ServerOptions } from '../../src/server/index.js';

/** Options of {@link startScaleOut}. */
export interface ScaleOutOptions {
  /** Folder of `replica.db` and `shards/` (e.g. `./data`). */
  dir: string;
  /** Called when a member or the follower stops on an error (the rest keeps running). */
  onError(what: string, error: unknown): void;
  /** Poll interval of members and the follower (default 100 ms). */
  pollIntervalMs?: number;
  /** When the store is on PostgreSQL with streaming replicas: the primary, its schema and the replicas, monitored for the panel. */
  replicaSet?: { primary: string; schema?: string; replicas: string[] };
}

/** The running scale-out pieces, and what `createServer` needs to show them. */
export interface ScaleOut {
  server: Required<Pick<ServerOptions, 'groups' | 'replication' | 'shards'>>;
  shards: ShardedEventStore;
  /** Stops the members and the follower, then closes the replica and the shards. */
  close(): Promise<void>;
}

/** The notifications read model: per order, how many of its events were seen, the last one's type and position. */
export const NOTIFICATIONS_DDL = `CREATE TABLE IF NOT EXISTS order_notifications (
  order_id  TEXT   PRIMARY KEY,
  events    BIGINT NOT NULL,
  last_type TEXT   NOT NULL,
  position  BIGINT NOT NULL
)`;

const notify: ConsumerHandler = async (e, { tx }) => {
  if (!e.streamId.startsWith('order-') || tx === null) return;
  await tx.sql.run(
    `INSERT INTO order_notifications (order_id, events, last_type, position) VALUES (?, 1, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET events = order_notifications.events + 1, last_type = excluded.last_type, position = excluded.position`,
    [e.streamId.slice('order-'.length), e.type, e.globalPosition],
  );
};

/** Copies one event to the shards; a repeat after a crash finds its own id there and is skipped. */
function copyTo(shards: ShardedEventStore): ConsumerHandler {
  return async (e) => {
    try {
      await shards.appendToStream(e.streamId, [{ id: e.id, type: e.type, data: e.data, ...(e.metadata === undefined ? {} : { metadata: e.metadata }) }], { expectedVersion: e.streamVersion - 1n });
    } catch (err) {
      if (!isTesseraError(err, 'CONCURRENCY_CONFLICT') || (await shards.readEventsById([e.id])).length === 0) throw err;
    }
  };
}

/**
 * Starts the consumer groups, the follower and the sharded copy over `store` (a store opened by Tessera).
 *
 * @example
 * ```ts
 * const scale = await startScaleOut(store, { dir: './data', onError: (what, e) => console.error(what, e) });
 * const app = await createServer({ store, ...scale.server });
 * ```
 */
export async function startScaleOut(store: EventStore, o: ScaleOutOptions): Promise<ScaleOut> {
  const pollIntervalMs = o.pollIntervalMs ?? 100;
  mkdirSync(join(o.dir, 'shards'), { recursive: true });
  await storeDatabase(store).exec(NOTIFICATIONS_DDL);
  const shards = await openShardedEventStore({
    catalog: { kind: 'sqlite', path: join(o.dir, 'shards', 'catalog.db') },
    shards: ['a', 'b', 'c'].map((id) => ({ id, connection: { kind: 'sqlite' as const, path: join(o.dir, 'shards', `shard-${id}.db`) } })),
  });
  const members: ConsumerGroup[] = [];
  const follower = await openLogShippingFollower({ source: store, target: { path: join(o.dir, 'replica.db') }, pollIntervalMs }).catch(async (e: unknown) => {
    await shards.close();
    throw e;
  });
  let replicaSet: ReplicaSet | undefined;
  const close = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.stop()));
    await replicaSet?.close();
    await follower.close();
    await shards.close();
  };
  try {
    if (o.replicaSet) {
      const { primary, schema, replicas } = o.replicaSet;
      replicaSet = await openReplicaSet({ primary, replicas, ...(schema === undefined ? {} : { schema }) });
    }
    for (const memberId of ['notifier-1', 'notifier-2']) {
      members.push(await openConsumerGroup({ store, group: 'notifications', partitions: 8, memberId, handler: notify, pollIntervalMs }));
    }
    members.push(await openConsumerGroup({ store, group: 'shard-copy', partitions: 8, memberId: 'shard-copier', handler: copyTo(shards), delivery: 'at-least-once', pollIntervalMs }));
    for (const m of members) m.done.catch((e: unknown) => o.onError(`consumer group ${m.group} member ${m.memberId}`, e));
    follower.start().done.catch((e: unknown) => o.onError('log-shipping follower', e));
  } catch (e) {
    await close();
    throw e;
  }
  return {
    server: {
      groups: { names: ['notifications', 'shard-copy'] },
      replication: { follower, label: join(o.dir, 'replica.db'), ...(replicaSet === undefined ? {} : { replicaSet }) },
      shards: { store: shards, label: 'every stream of the orders log, copied by the shard-copy group, hashed by stream id' },
    },
    shards,
    close,
  };
}
