import { InvalidArgumentError, StoreClosedError } from '../errors.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import type { Clock } from '../support/clock.js';
import type { IdGenerator } from '../support/ids.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';
import { aggregateStream } from './aggregate.js';
import type { AppendRequest, EventStoreBackend, PartitionPageRequest } from './backend.js';
import { pagedStreamAll, type StreamAllOptions, subscriptionConfig } from './read-options.js';
import { SubscriptionLoop, settleStopped } from './subscription.js';
import type {
  AggregateOptions,
  AppendOptions,
  AppendResult,
  EventStore,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './types.js';
import type { UpcasterRegistry } from './upcasters.js';
import {
  EVENT_ID_MAX_BYTES,
  MAX_EVENTS_PER_APPEND,
  prepareEvents,
  validateAppendOptions,
  validateFrom,
  validateMaxCount,
  validateStreamId,
  validateTypes,
} from './validation.js';

/** Everything the engine-independent part of a store needs. */
export interface StoreRuntime {
  backend: EventStoreBackend;
  /** The store's own database, for read models and tables that must commit with events. */
  sql: SqlDriver;
  upcasters: UpcasterRegistry;
  clock: Clock;
  ids: IdGenerator;
  random: () => number;
  maxEventBytes: number;
}

const STREAM_ALL_PAGE = 1_000;

/**
 * A transaction on the store's database: SQL through `sql` and appends through `appendToStream` commit
 * together. A failed append inside it leaves nothing behind (the transaction itself stays usable).
 */
export interface StoreTransaction {
  readonly sql: SqlExecutor;
  appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<AppendResult>;
}

/**
 * A synchronous transaction on the store's SQLite connection (see {@link syncStoreWriter}): `append` is valid only
 * inside `write(fn)`, and validates and prepares its events as `appendToStream` does.
 */
export interface SyncStoreWriter {
  write<T>(fn: () => T): T;
  append(streamId: string, events: NewEvent[], opts?: AppendOptions): AppendResult;
}

/**
 * Wraps an engine backend into the public {@link EventStore}: validates every input before touching the
 * database, upcasts on read, and implements subscriptions, streaming reads and aggregation once for all
 * engines.
 */
export class TesseraEventStore implements EventStore {
  #closed = false;
  readonly #subscriptions = new Set<SubscriptionLoop>();
  readonly #prepareContext;
  #syncWriter: SyncStoreWriter | null | undefined;

  constructor(private readonly rt: StoreRuntime) {
    this.#prepareContext = {
      maxEventBytes: rt.maxEventBytes,
      ids: rt.ids,
      currentSchemaVersion: (type: string) => rt.upcasters.currentVersion(type),
    };
  }

  async appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<AppendResult> {
    this.#assertOpen();
    return this.rt.backend.append(this.#appendRequest(streamId, events, opts));
  }

  /** Runs `fn` in one transaction: its SQL and its appends commit together, or not at all. */
  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    this.#assertOpen();
    if (typeof fn !== 'function') {
      throw new InvalidArgumentError('fn', 'is not a function', 'Pass storeTransaction(store, async (tx) => { … }).');
    }
    return this.rt.backend.transaction((btx) =>
      fn({
        sql: btx.sql,
        appendToStream: async (streamId, events, opts) => btx.append(this.#appendRequest(streamId, events, opts)),
      }),
    );
  }

  /** See {@link syncStoreWriter}. */
  syncWriter(): SyncStoreWriter | null {
    if (this.#syncWriter === undefined) {
      const b = this.rt.backend.syncWriter?.() ?? null;
      this.#syncWriter =
        b === null
          ? null
          : {
              write: (fn) => (this.#assertOpen(), b.write(fn)),
              append: (streamId, events, opts) => b.append(this.#appendRequest(streamId, events, opts)),
            };
    }
    return this.#syncWriter;
  }

  #appendRequest(streamId: string, events: NewEvent[], opts: AppendOptions | undefined): AppendRequest {
    const id = validateStreamId(streamId);
    const options = validateAppendOptions(opts);
    const prepared = prepareEvents(events, options, this.#prepareContext);
    return { streamId: id, events: prepared, expectedVersion: options.expectedVersion, recordedAt: this.rt.clock.now() };
  }

  async readStream(streamId: string, opts?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const id = validateStreamId(streamId);
    const o = requireOptionsObject(opts, 'options') as ReadStreamOptions;
    const direction = o.direction ?? 'forward';
    if (direction !== 'forward' && direction !== 'backward') {
      throw new InvalidArgumentError('direction', `"${String(direction)}" is not forward or backward`, "Pass direction: 'forward' or 'backward'.");
    }
    const rows = await this.rt.backend.readStream(id, {
      fromVersion: validateFrom(o.fromVersion, 'fromVersion', 0n),
      maxCount: validateMaxCount(o.maxCount),
      backward: direction === 'backward',
    });
    return this.rt.upcasters.toRecordedAll(rows);
  }

  async readAll(opts?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const o = requireOptionsObject(opts, 'options') as ReadAllOptions;
    const rows = await this.rt.backend.readAll({
      fromPosition: validateFrom(o.fromPosition, 'fromPosition', 0n) ?? 0n,
      maxCount: validateMaxCount(o.maxCount),
      types: validateTypes(o.types),
    });
    return this.rt.upcasters.toRecordedAll(rows);
  }

  /** A page of some log partitions (see {@link readLogPartitions}). */
  async readPartitions(req: PartitionPageRequest): Promise<{ events: RecordedEvent[]; through: bigint | null }> {
    this.#assertOpen();
    const page = await this.rt.backend.readPartitions(req);
    return { events: this.rt.upcasters.toRecordedAll(page.events), through: page.through };
  }

  subscribeToAll(opts: SubscribeOptions): Subscription {
    this.#assertOpen();
    const config = subscriptionConfig(opts);
    const loop = new SubscriptionLoop(
      {
        readPage: (from, max, types) => this.readAll({ fromPosition: from, maxCount: max, ...(types ? { types } : {}) }),
        waitForEvents: (ms, signal) => this.rt.backend.waitForEvents(ms, signal),
        random: this.rt.random,
      },
      config,
    );
    this.#subscriptions.add(loop);
    void loop.done.finally(() => this.#subscriptions.delete(loop)).catch(() => undefined);
    return settleStopped(loop);
  }

  async *streamAll(opts?: StreamAllOptions): AsyncIterable<RecordedEvent> {
    this.#assertOpen();
    yield* pagedStreamAll((o) => this.readAll(o), opts, STREAM_ALL_PAGE);
  }


  async readEventsById(ids: string[]): Promise<RecordedEvent[]> {
    this.#assertOpen();
    if (!Array.isArray(ids)) {
      throw new InvalidArgumentError('ids', 'is not an array', "Pass an array of event ids, e.g. ['evt-1'].");
    }
    if (ids.length > MAX_EVENTS_PER_APPEND) {
      throw new InvalidArgumentError('ids', `${ids.length} ids (limit ${MAX_EVENTS_PER_APPEND})`, 'Look up fewer ids per call.');
    }
    const valid = ids.map((id, i) => requireBoundedString(id, `ids[${i}]`, EVENT_ID_MAX_BYTES));
    const rows = await this.rt.backend.readByIds([...new Set(valid)]);
    return this.rt.upcasters.toRecordedAll(rows);
  }

  async streamExists(streamId: string): Promise<boolean> {
    this.#assertOpen();
    return (await this.rt.backend.streamVersion(validateStreamId(streamId))) > 0n;
  }

  async aggregateStream<S>(streamId: string, opts: AggregateOptions<S>): Promise<{ state: S; version: bigint }> {
    this.#assertOpen();
    return aggregateStream(this.rt, validateStreamId(streamId), opts);
  }

  /** The store's own database (see {@link storeDatabase}). */
  get database(): SqlDriver {
    this.#assertOpen();
    return this.rt.sql;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    await this.rt.backend.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}

/** The store as Tessera's own class, for the functions below that need its database or internals. */
function tesseraStore(store: EventStore): TesseraEventStore {
  if (!(store instanceof TesseraEventStore)) {
    throw new InvalidArgumentError('store', 'is not an event store opened by Tessera', 'Pass a store from openSqliteEventStore or openPostgresEventStore.');
  }
  return store;
}

/**
 * The SQL database an event store keeps its events in, for read models, saga tables and anything else
 * that must live (and commit) beside the events. Works for every store Tessera opens.
 *
 * @example
 * ```ts
 * const db = storeDatabase(store);
 * const rows = await db.query('SELECT * FROM cart_totals WHERE cart_id = ?', ['cart-1']);
 * ```
 */
export function storeDatabase(store: EventStore): SqlDriver {
  return tesseraStore(store).database;
}

/**
 * Runs `fn` in one transaction on the store's own database: its SQL (a saga's status row, a read model, an
 * inbox entry) and its appends commit together, or not at all — the store is its own outbox.
 *
 * @example
 * ```ts
 * await storeTransaction(store, async (tx) => {
 *   await tx.sql.run('UPDATE orders SET status = ? WHERE id = ?', ['shipped', 'o-1']);
 *   await tx.appendToStream('order-o-1', [{ type: 'OrderShipped', data: { id: 'o-1' } }]);
 * });
 * ```
 */
export function storeTransaction<T>(store: EventStore, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
  return tesseraStore(store).transaction(fn);
}

/**
 * A page of the global log restricted to streams in some log partitions (`partitionOf(streamId, count)`),
 * filtered by the database, and the position up to which the page is complete (`through`, see
 * `PartitionPage`). Internal to consumer groups; the arguments are checked by their caller.
 *
 * @example
 * ```ts
 * const { events, through } = await readLogPartitions(store, { fromPosition: 1n, maxCount: 500, partitionCount: 8, partitions: [0, 3] });
 * ```
 */
export function readLogPartitions(store: EventStore, req: PartitionPageRequest): Promise<{ events: RecordedEvent[]; through: bigint | null }> {
  return tesseraStore(store).readPartitions(req);
}

/**
 * The store's synchronous writer, or null when the store is not a Tessera SQLite store or has append hooks (inline
 * projections). Internal to sagas, whose lone transitions run as one synchronous transaction: their SQL and their
 * lifecycle append commit together with no promise hops. The caller makes sure no async transaction of this process
 * is open on the connection.
 *
 * @example
 * ```ts
 * const w = syncStoreWriter(store);
 * w?.write(() => w.append('saga-1', [{ type: 'SagaStarted', data: {} }]));
 * ```
 */
export function syncStoreWriter(store: EventStore): SyncStoreWriter | null {
  return store instanceof TesseraEventStore ? store.syncWriter() : null;
}
