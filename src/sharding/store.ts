import { EventIdConflictError, InvalidArgumentError, StaleShardMapError, StoreClosedError } from '../errors.js';
import { pagedStreamAll, type StreamAllOptions, subscriptionConfig } from '../eventstore/read-options.js';
import { SubscriptionLoop, settleStopped } from '../eventstore/subscription.js';
import type {
  AggregateOptions, AppendOptions, AppendResult, EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions, Subscription,
} from '../eventstore/types.js';
import { MAX_EVENTS_PER_APPEND, validateFrom, validateMaxCount, validateStreamId, validateTypes } from '../eventstore/validation.js';
import { WakeSignal } from '../eventstore/wake-signal.js';
import type { IdGenerator } from '../support/ids.js';
import { requireOptionsObject } from '../support/validate.js';
import { POSITION_STRIDE } from './map.js';
import { inflightBound, readMergedPage, SubscriptionCursor, withMergedPositions } from './merged-read.js';
import type { ShardQuery } from './query.js';
import type { Route, ShardRouter } from './router.js';
import { type ScatterOptions, type ScatterResult, scatterGather } from './scatter.js';
import { lamportOf, positionsOf, shardState } from './shard-log.js';
import { registerContext, type ShardHandle, unavailable } from './shards.js';

/** What the sharded store is built from (see `open.ts`). */
export interface ShardedRuntime {
  router: ShardRouter;
  /** Returns the open handle of a shard, opening it on first use (shards added by another process). */
  shard(id: string): Promise<ShardHandle>;
  /** Every shard of the current map, opened. */
  allShards(): Promise<ShardHandle[]>;
  shardKey(streamId: string): string;
  ids: IdGenerator;
  random: () => number;
  retryAttempts: number;
  close(): Promise<void>;
}

/** A cursor over the merged log that never skips: shard id → last merged position read from that shard. */
export type ShardCursor = Readonly<Record<string, bigint>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The {@link EventStore} over N shard stores, routed by stream id (or a shard key taken from it). Appends
 * go to one shard, fenced by the map epoch; stream reads go to one shard; global reads merge all shards by
 * merged position (see docs/sharding.md for the exact semantics).
 * @example
 * ```ts
 * const store = await openShardedEventStore({ catalog: { kind: 'sqlite', path: 'catalog.db' }, shards });
 * await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: {} }]);
 * store.router.route('order-1'); // { shard: 'b', slot: 1234, epoch: 1 }
 * ```
 */
export class ShardedEventStore implements EventStore {
  #closed = false;
  #clock = 0n;
  readonly #inflight = new Map<object, bigint>();
  readonly #subscriptions = new Set<SubscriptionLoop>();
  readonly #wake = new WakeSignal();

  constructor(private readonly rt: ShardedRuntime) {}

  /** Starts the Lamport clock above every shard's, so this handle's appends sort after what exists. */
  async init(): Promise<void> {
    for (const s of await this.rt.allShards()) this.#observe(((await shardState(s.db))?.lamport ?? 0n) * BigInt(POSITION_STRIDE));
  }

  /** The router (current map, epoch, `route(key)`). */
  get router(): ShardRouter {
    return this.rt.router;
  }

  async appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<AppendResult> {
    this.#assertOpen();
    const id = validateStreamId(streamId);
    const given = Array.isArray(events) ? events.filter((e) => isObject(e) && typeof e.id === 'string' && e.id.length > 0).map((e) => e.id as string) : [];
    const batch = Array.isArray(events) ? events.map((e) => (isObject(e) && e.id === undefined ? { ...e, id: this.rt.ids() } : e)) : events;
    return this.rt.router.withRoute(
      this.rt.shardKey(id),
      async (route) => {
        const shard = await this.rt.shard(route.shard);
        if (given.length > 0) await this.#refuseIdsElsewhere(shard, id, given);
        return this.#appendOn(shard, route, id, batch, opts);
      },
      { attempts: this.rt.retryAttempts, random: this.rt.random },
    );
  }

  async #appendOn(shard: ShardHandle, route: Route, streamId: string, batch: NewEvent[], opts: AppendOptions | undefined): Promise<AppendResult> {
    const first = batch[0];
    const lastId = batch[batch.length - 1]?.id;
    const ctx = { epoch: route.epoch, slot: route.slot, hint: lamportOf(this.#clock) };
    const token = {};
    this.#inflight.set(token, ctx.hint);
    const unregister = registerContext(shard.contexts, isObject(first) && typeof first.id === 'string' ? first.id : undefined, ctx);
    try {
      const r = await shard.store.appendToStream(streamId, batch, opts);
      let last = (ctx as { positions?: bigint[] }).positions?.at(-1);
      if (last === undefined && lastId !== undefined) last = (await positionsOf(shard.db, [lastId])).get(lastId); // an idempotent retry
      if (last === undefined) last = r.lastGlobalPosition;
      this.#observe(last);
      return { nextExpectedVersion: r.nextExpectedVersion, lastGlobalPosition: last };
    } catch (e) {
      throw unavailable(shard.info.id, e);
    } finally {
      unregister();
      this.#inflight.delete(token);
      this.#wake.notify();
    }
  }

  /** Event ids are unique per shard by index; ids a caller gives are also looked up on the other shards. */
  async #refuseIdsElsewhere(target: ShardHandle, streamId: string, ids: string[]): Promise<void> {
    const others = (await this.rt.allShards()).filter((s) => s !== target);
    await Promise.all(
      others.map(async (s) => {
        let found: Map<string, bigint>;
        try {
          found = await positionsOf(s.db, ids);
        } catch (e) {
          throw unavailable(s.info.id, e);
        }
        const [dup] = found.keys();
        if (dup !== undefined) throw new EventIdConflictError(dup, `on shard "${s.info.id}", in another stream than "${streamId}"`);
      }),
    );
  }

  async readStream(streamId: string, opts?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.#assertOpen();
    return this.#readOn(streamId, async (shard) => withMergedPositions(shard, await shard.store.readStream(streamId, opts)));
  }

  async readAll(opts?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.#assertOpen();
    const o = requireOptionsObject(opts, 'options') as ReadAllOptions;
    const from = validateFrom(o.fromPosition, 'fromPosition', 0n) ?? 0n;
    return this.#page(() => from - 1n, validateMaxCount(o.maxCount), validateTypes(o.types));
  }

  /**
   * Reads the merged log from a per-shard cursor (`{}` = from the start) and returns the next cursor. Unlike
   * a bigint `fromPosition`, a cursor never skips an event that another process appended with a lower
   * merged position after a later one was read.
   * @example
   * ```ts
   * let cursor: ShardCursor = {};
   * const { events, cursor: next } = await store.readAllFrom(cursor, { maxCount: 100 });
   * ```
   */
  async readAllFrom(cursor: ShardCursor, opts: { maxCount?: number; types?: string[] } = {}): Promise<{ events: RecordedEvent[]; cursor: ShardCursor }> {
    this.#assertOpen();
    const c = requireOptionsObject(cursor, 'cursor') as Record<string, bigint>;
    const shards = await this.rt.allShards();
    const byIndex = new Map(shards.map((s) => [s.info.index, c[s.info.id] ?? 0n]));
    const events = await this.#page((i) => byIndex.get(i) ?? 0n, validateMaxCount(opts.maxCount), validateTypes(opts.types));
    const next: Record<string, bigint> = { ...c };
    for (const e of events) next[shards.find((s) => s.info.index === Number(e.globalPosition % BigInt(POSITION_STRIDE)))!.info.id] = e.globalPosition;
    return { events, cursor: next };
  }

  async #page(after: (index: number) => bigint, maxCount: number | undefined, types: string[] | undefined): Promise<RecordedEvent[]> {
    const page = await readMergedPage(await this.rt.allShards(), after, maxCount, types, inflightBound(this.#inflight.values()));
    const last = page[page.length - 1];
    if (last !== undefined) this.#observe(last.globalPosition);
    return page;
  }

  subscribeToAll(opts: SubscribeOptions): Subscription {
    this.#assertOpen();
    const config = subscriptionConfig(opts);
    const cursor = new SubscriptionCursor(config.fromPosition);
    const loop = new SubscriptionLoop(
      {
        readPage: async (from, max, types) => cursor.remember(await this.#page(cursor.advance(from), max, types)),
        waitForEvents: (ms, signal) => this.#wake.wait(ms, signal),
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
    yield* pagedStreamAll((o) => this.readAll(o), opts, 1_000);
  }


  async streamExists(streamId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#readOn(streamId, (shard) => shard.store.streamExists(streamId));
  }

  async readEventsById(ids: string[]): Promise<RecordedEvent[]> {
    this.#assertOpen();
    if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', 'is not an array', "Pass an array of event ids, e.g. ['evt-1'].");
    if (ids.length > MAX_EVENTS_PER_APPEND) throw new InvalidArgumentError('ids', `${ids.length} ids (limit ${MAX_EVENTS_PER_APPEND})`, 'Look up fewer ids per call.');
    const found = await Promise.all(
      (await this.rt.allShards()).map(async (s) => withMergedPositions(s, await this.#onShard(s, () => s.store.readEventsById(ids)))),
    );
    return found.flat().sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : 1));
  }

  /**
   * Folds one stream on its shard. Events passed to `evolve` carry their shard-local `globalPosition`
   * (the fold never needs the merged one; use readStream for merged positions).
   */
  async aggregateStream<S>(streamId: string, opts: AggregateOptions<S>): Promise<{ state: S; version: bigint }> {
    this.#assertOpen();
    return this.#readOn(streamId, (shard) => shard.store.aggregateStream(streamId, opts));
  }

  /**
   * Scatter-gather over the shard databases (read models kept by inline projections on each shard):
   * see {@link scatterGather}.
   * @example
   * ```ts
   * const { rows } = await store.query({ table: 'order_totals', aggregates: [{ fn: 'sum', column: 'total', as: 'revenue' }] });
   * ```
   */
  async query<R = Record<string, unknown>>(query: ShardQuery, opts?: ScatterOptions): Promise<ScatterResult<R>> {
    this.#assertOpen();
    const targets = (await this.rt.allShards()).map((s) => ({ id: s.info.id, db: s.db, dialect: s.db.dialect }));
    return scatterGather<R>(targets, query, opts);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.stop()));
    await this.rt.close();
  }

  /**
   * Reads one stream on its shard, then checks the shard's accepted epoch: a shard fenced with a newer map
   * may have lost the key's slot, so the read is redone after a refresh. Fences are pushed before the
   * catalog changes, so a read that finds the old epoch *after* reading saw the key's only shard.
   */
  async #readOn<T>(streamId: string, read: (shard: ShardHandle) => Promise<T>): Promise<T> {
    const id = validateStreamId(streamId);
    return this.rt.router.withRoute(
      this.rt.shardKey(id),
      async (route) => {
        const shard = await this.rt.shard(route.shard);
        return this.#onShard(shard, async () => {
          const result = await read(shard);
          const epoch = (await shardState(shard.db))?.epoch ?? 0;
          if (epoch > route.epoch) throw new StaleShardMapError(route.epoch, epoch, `shard "${shard.info.id}" accepted a newer map; reading again`);
          return result;
        });
      },
      { attempts: this.rt.retryAttempts, random: this.rt.random },
    );
  }

  async #onShard<T>(shard: ShardHandle, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw unavailable(shard.info.id, e);
    }
  }

  #observe(position: bigint): void {
    if (position > this.#clock) this.#clock = position;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError();
  }
}
