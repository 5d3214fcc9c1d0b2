import { IndeterminateCommitError, InvalidArgumentError, isTesseraError, NotAStandbyError, PrimaryUnavailableError, ReplicaUnavailableError, StoreClosedError } from '../errors.js';
import { openPostgresEventStore } from '../eventstore/postgres/open.js';
import { storeDatabase } from '../eventstore/store.js';
import type { AggregateOptions, AppendOptions, AppendResult, EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions, Subscription } from '../eventstore/types.js';
import type { SqlValue } from '../storage/port.js';
import { isPgConnectionError } from '../storage/postgres-errors.js';
import { uuidV7 } from '../support/ids.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { decodeSessionToken, encodeSessionToken, parseLsn } from './lsn.js';
import { type LagPoint, Membership } from './membership.js';
import { ReplicaNode } from './node.js';
import { type ReadConsistency, type ReplicaSetOptions, requireLevel, resolveReplicaSetOptions, type ResolvedReplicaSetOptions } from './options.js';
import { type ReadTarget, route, UNKNOWN_POSITION } from './router.js';
import { ReplicaSession } from './session.js';
import type { ReplicaSetStatus } from './status.js';

/**
 * An append's result plus the session token that makes the next read see it.
 * @example
 * ```ts
 * const { sessionToken }: ReplicaAppendResult = await rs.appendToStream('cart-1', [{ type: 'ItemAdded', data: {} }]);
 * ```
 */
export interface ReplicaAppendResult extends AppendResult {
  /**
   * `rsv1:<LSN>`: the primary's WAL position after the commit; pass it as `token` to read your write. A
   * non-enumerable property, so the result compares and serialises like a plain `AppendResult`.
   */
  sessionToken: string;
}

/** Internal read hook a session passes: the floor to route by, and the position the read turned out to see. */
export interface SessionPosition {
  floor: bigint;
  saw(lsn: bigint): void;
}

/**
 * A PostgreSQL primary and its streaming replicas behind one event store: writes go to the primary, reads
 * take a consistency level per call (`strong` unless configured), lag is monitored, and a promoted replica
 * is followed as the new primary.
 * @example
 * ```ts
 * const rs: ReplicaSet = await openReplicaSet({ primary: 'postgres://db1/app', replicas: ['postgres://db2/app'] });
 * const events = await rs.readStream('cart-1', { consistency: 'eventual' });
 * ```
 */
export class ReplicaSet implements EventStore {
  readonly #m: Membership;
  #closed = false;

  /** @internal Use {@link openReplicaSet}. */
  constructor(private readonly o: ResolvedReplicaSetOptions, m: Membership) {
    this.#m = m;
  }

  /** Appends on the primary. A failover during the call fails it with a retryable `PrimaryUnavailableError` (never a silent loss). */
  async appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<ReplicaAppendResult> {
    this.#assertOpen();
    if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'is not an array', "Pass an array of events, e.g. [{ type: 'ItemAdded', data: {} }].");
    // Ids make a retry after an unknown outcome safe; the error carries them.
    const withIds = events.map((e) => (e !== null && typeof e === 'object' && e.id === undefined ? { ...e, id: (this.o.storeOptions.ids ?? uuidV7)() } : e));
    const eventIds = withIds.map((e) => e?.id).filter((id): id is string => typeof id === 'string');
    // No pre-check against the last probe: one slow probe on a busy machine must not refuse writes; a primary
    // that is really down refuses the connection (bounded by probeTimeoutMs) and lands in the catch below.
    const { epoch, primaryStore, epochEnded } = this.#m;
    let result: AppendResult | 'failed-over';
    try {
      result = await Promise.race([primaryStore.appendToStream(streamId, withIds, opts), epochEnded.then(() => 'failed-over' as const)]);
    } catch (e) {
      if (!isLostPrimary(e)) throw e;
      void this.#m.tick().catch(() => undefined);
      throw new PrimaryUnavailableError(`the write to "${this.#m.primaryNode.name}" was cut off; it may or may not have committed`, { cause: e, eventIds });
    }
    if (result === 'failed-over' || this.#m.epoch !== epoch) {
      throw new PrimaryUnavailableError('the primary changed while the write was in flight; it may have reached only the old primary', { eventIds });
    }
    // Non-enumerable: the result still equals (and serialises like) a plain store's AppendResult.
    const sessionToken = encodeSessionToken(await this.#primaryLsn().catch(() => UNKNOWN_POSITION));
    return Object.defineProperty({ ...result }, 'sessionToken', { value: sessionToken, enumerable: false }) as ReplicaAppendResult;
  }

  readStream(streamId: string, opts?: ReadStreamOptions & ReadConsistency, session?: SessionPosition): Promise<RecordedEvent[]> {
    return this.#read(opts, session, (s, rest) => s.readStream(streamId, rest as ReadStreamOptions));
  }

  readAll(opts?: ReadAllOptions & ReadConsistency, session?: SessionPosition): Promise<RecordedEvent[]> {
    return this.#read(opts, session, (s, rest) => s.readAll(rest as ReadAllOptions));
  }

  readEventsById(ids: string[], opts?: ReadConsistency, session?: SessionPosition): Promise<RecordedEvent[]> {
    return this.#read(opts, session, (s) => s.readEventsById(ids));
  }

  streamExists(streamId: string, opts?: ReadConsistency, session?: SessionPosition): Promise<boolean> {
    return this.#read(opts, session, (s) => s.streamExists(streamId));
  }

  aggregateStream<S>(streamId: string, opts: AggregateOptions<S> & ReadConsistency, session?: SessionPosition): Promise<{ state: S; version: bigint }> {
    // Snapshots are written by aggregateStream: only on the primary (a standby is read-only).
    const level = opts?.snapshot === undefined ? opts : { ...opts, consistency: 'strong' as const };
    return this.#read(level, session, (s, rest) => s.aggregateStream(streamId, rest as AggregateOptions<S>));
  }

  /** Runs a read-only SQL query (a read model in the store's schema) at the requested consistency. */
  query<R extends object = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = [], opts?: ReadConsistency, session?: SessionPosition): Promise<R[]> {
    return this.#read(opts, session, (_s, _rest, target) =>
      target.kind === 'replica' ? target.node.db.query<R>(sql, params) : storeDatabase(this.#m.primaryStore).query<R>(sql, params),
    );
  }

  /** Subscriptions follow the primary's log (LISTEN does not work on a standby). */
  subscribeToAll(opts: SubscribeOptions): Subscription {
    this.#assertOpen();
    return this.#m.primaryStore.subscribeToAll(opts);
  }

  /** Streams the primary's log with flat memory (long reads stay on one server). */
  streamAll(opts?: { fromPosition?: bigint; types?: string[]; batchSize?: number }): AsyncIterable<RecordedEvent> {
    this.#assertOpen();
    return this.#m.primaryStore.streamAll(opts);
  }

  /** A session: its reads default to `read-your-writes` and never go back in time (monotonic reads). */
  session(token?: string): ReplicaSession {
    this.#assertOpen();
    return new ReplicaSession(this, token === undefined ? 0n : decodeSessionToken(token));
  }

  /** Per-replica lag (bytes, ms), health, rotation, the primary, failovers and read counters, as of the last probe. */
  status(): ReplicaSetStatus {
    return this.#m.status();
  }

  /** Probes every server now and returns the fresh status. */
  async refresh(): Promise<ReplicaSetStatus> {
    this.#assertOpen();
    await this.#m.tick();
    return this.#m.status();
  }

  /** Lag samples (one per probe, the last 240) for a dashboard's lag-over-time chart. */
  lagHistory(): LagPoint[] {
    return this.#m.history.map((p) => ({ at: p.at, replicas: p.replicas.map((r) => ({ ...r })) }));
  }

  /** The primary's event store now (changes after a failover). */
  get primary(): EventStore {
    return this.#m.primaryStore;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#m.close();
  }

  async #primaryLsn(): Promise<bigint> {
    const [row] = await storeDatabase(this.#m.primaryStore).query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return parseLsn(row!.lsn) ?? UNKNOWN_POSITION;
  }

  async #read<T>(opts: ReadConsistency | undefined, session: SessionPosition | undefined, fn: (s: EventStore, rest: object, t: ReadTarget) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const { consistency, token, maxStalenessMs, waitMs, ...rest } = requireOptionsObject(opts, 'options') as ReadConsistency;
    const level = consistency === undefined ? (session ? 'read-your-writes' : this.o.defaultConsistency) : requireLevel(consistency, 'consistency');
    let floor = session?.floor ?? null;
    if (token !== undefined) floor = (floor ?? 0n) > decodeSessionToken(token) ? floor : decodeSessionToken(token);
    const target = await route(this.#m, {
      level, floor,
      maxStalenessMs: maxStalenessMs === undefined ? this.o.maxStalenessMs : requirePositiveInt(maxStalenessMs, 'maxStalenessMs'),
      waitMs: waitMs === undefined ? this.o.readYourWritesWaitMs : waitMs === 0 ? 0 : requirePositiveInt(waitMs, 'waitMs'),
    }, this.o.random, () => this.o.clock.now());
    if (target.kind === 'replica') {
      try {
        const result = await fn(await target.node.store(), rest, target);
        this.#m.reads.replicas[target.node.name] = (this.#m.reads.replicas[target.node.name] ?? 0) + 1;
        // What the read saw is at most the replay position now: later reads must not go below it.
        if (session) {
          const seen = await target.node.replayLsn();
          session.saw(seen);
          if (seen > (this.#m.replay.get(target.node.name) ?? -1n)) this.#m.replay.set(target.node.name, seen);
        }
        return result;
      } catch (e) {
        // A replica that fails (down, or its copy of the schema not there yet) costs a retry on the primary, not the read.
        if (!isPgConnectionError(e) && !isTesseraError(e, 'STORAGE_ERROR')) throw e;
        void this.#m.tick().catch(() => undefined);
      }
    }
    const result = await fn(this.#m.primaryStore, rest, { kind: 'primary' });
    this.#m.reads.primary++;
    if (session) session.saw(await this.#primaryLsn().catch(() => UNKNOWN_POSITION));
    return result;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('replica set');
  }
}

function isLostPrimary(e: unknown): boolean {
  return e instanceof IndeterminateCommitError || isPgConnectionError(e) || (isTesseraError(e, 'STORAGE_ERROR') && e.retryable);
}

/**
 * Opens a replica set over PostgreSQL streaming replication: the event store schema is created on the
 * primary if missing; every replica must be reachable and a hot standby (else `ReplicaUnavailableError` /
 * `NotAStandbyError`). Probing starts at once.
 *
 * @example
 * ```ts
 * import { openReplicaSet } from 'tessera';
 * const rs = await openReplicaSet({ primary: 'postgres://db1/app', replicas: ['postgres://db2/app', 'postgres://db3/app'] });
 * const session = rs.session(req.cookies.rs);                 // read-your-writes across requests
 * await session.appendToStream('cart-1', [{ type: 'ItemAdded', data: { sku: 'A' } }]);
 * const events = await session.readStream('cart-1');         // a replica that has replayed the write, else the primary
 * res.cookie('rs', session.token);
 * const fast = await rs.readAll({ maxCount: 100, consistency: 'bounded-staleness', maxStalenessMs: 500 });
 * console.log(rs.status().replicas.map((r) => [r.name, r.lagBytes, r.lagMs, r.inRotation]));
 * ```
 */
export async function openReplicaSet(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const o = resolveReplicaSetOptions(options);
  const now = (): number => o.clock.now();
  const nodes = o.replicas.map((r) => new ReplicaNode(r.name, r.connectionString, o.schema, o.probeTimeoutMs, o.maxConnections, o.upcasters));
  const primaryNode = new ReplicaNode(hostName(o.primary), o.primary, o.schema, o.probeTimeoutMs, 2);
  const closeAll = (): Promise<unknown> => Promise.allSettled([primaryNode.close(), ...nodes.map((n) => n.close())]);
  try {
    const probes = await Promise.all(nodes.map((n) => n.probe(now)));
    probes.forEach((p, i) => {
      if (!p.ok) throw new ReplicaUnavailableError(nodes[i]!.name, p.error ?? 'no answer');
      if (!p.inRecovery) throw new NotAStandbyError(nodes[i]!.name);
    });
    const primaryProbe = await primaryNode.probe(now);
    if (primaryProbe.ok && primaryProbe.inRecovery) {
      throw new InvalidArgumentError('primary', 'is a standby (pg_is_in_recovery() is true)', 'Pass the writable server as primary and the standbys as replicas.');
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  let store: EventStore;
  try {
    store = await openPostgresEventStore({
      connectionString: o.primary, schema: o.schema, maxConnections: o.maxConnections, connectTimeoutMs: o.probeTimeoutMs,
      ...o.storeOptions,
    });
  } catch (e) {
    await closeAll();
    throw new PrimaryUnavailableError(`cannot open the event store on the primary: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const m = new Membership(o, store, primaryNode, nodes);
  await m.tick();
  m.start();
  return new ReplicaSet(o, m);
}

function hostName(url: string): string {
  try {
    return new URL(url).host || 'primary';
  } catch {
    return 'primary';
  }
}
