import type { SqlExecutor } from '../storage/port.js';

/**
 * The event store contract (see DESIGN.md): every adapter — SQLite, PostgreSQL, sharded — implements
 * {@link EventStore} with the same semantics, checked by one conformance suite.
 * @module
 */

/** An event to append. `id` makes retries idempotent; one is generated (UUIDv7) when absent. */
export interface NewEvent {
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
  id?: string;
}

/** An event as stored, after upcasting to the current schema version of its type. */
export interface RecordedEvent extends NewEvent {
  id: string;
  streamId: string;
  /** 1-based position inside its stream. */
  streamVersion: bigint;
  /** Position in the store's global log: strictly increasing, may have gaps. */
  globalPosition: bigint;
  /** When the append committed, to the millisecond. */
  recordedAt: Date;
  schemaVersion: number;
}

/**
 * What the append expects the stream's current version to be.
 * `0n` means the same as `'no_stream'`; `'any'` skips the check.
 */
export type ExpectedVersion = bigint | 'any' | 'no_stream' | 'stream_exists';

/** Options of {@link EventStore.appendToStream}. */
export interface AppendOptions {
  expectedVersion?: ExpectedVersion;
  /** Copied into each event's metadata as `correlationId` unless the event already has one. */
  correlationId?: string;
  /** Copied into each event's metadata as `causationId` unless the event already has one. */
  causationId?: string;
}

/** Result of an append: the stream's new version and the global position of its last event. */
export interface AppendResult {
  nextExpectedVersion: bigint;
  lastGlobalPosition: bigint;
}

/** Options of {@link EventStore.readStream}. `fromVersion` is inclusive. */
export interface ReadStreamOptions {
  fromVersion?: bigint;
  maxCount?: number;
  direction?: 'forward' | 'backward';
}

/** Options of {@link EventStore.readAll}. `fromPosition` is inclusive; `maxCount` counts matching events. */
export interface ReadAllOptions {
  fromPosition?: bigint;
  maxCount?: number;
  types?: string[];
}

/** Retry policy for a subscription handler that throws. */
export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** Options of {@link EventStore.subscribeToAll}. */
export interface SubscribeOptions {
  /** Inclusive; without it the subscription starts at the beginning of the log. */
  fromPosition?: bigint;
  handler(e: RecordedEvent): Promise<void> | void;
  /** Only events of these types are delivered. */
  types?: string[];
  /** Handler retries before the subscription stops with the error (default 5 attempts, 50 ms → 2 s). */
  retry?: RetryPolicy;
  /** How often to look for events appended by other processes (default 100 ms). */
  pollIntervalMs?: number;
  /** Events read per page while catching up (default 500). */
  batchSize?: number;
}

/** A running subscription. */
export interface Subscription {
  /** Global position of the last handled event (`fromPosition - 1n`, or `0n`, before the first). Resume with `position + 1n`. */
  readonly position: bigint;
  /** Stops delivery; resolves when the current handler call (if any) has finished. */
  stop(): Promise<void>;
  /** Settles when the subscription stops; rejects with the handler's error if its retries ran out. */
  readonly done: Promise<void>;
}

/** Opt-in snapshots for {@link EventStore.aggregateStream}. */
export interface SnapshotOptions<S> {
  /** Snapshot name, so different aggregations of one stream keep separate snapshots (default `'default'`). */
  name?: string;
  /** Bump when the state's shape changes: older snapshots are then ignored. */
  schemaVersion: number;
  /** Write a snapshot when at least this many events were applied since the last one. */
  every: number;
  /** State → JSON value (default: the state itself). */
  serialize?(state: S): unknown;
  /** JSON value → state (default: the value itself). */
  deserialize?(value: unknown): S;
}

/** Options of {@link EventStore.aggregateStream}. */
export interface AggregateOptions<S> {
  initialState(): S;
  evolve(state: S, event: RecordedEvent): S;
  /** Temporal query: the state as of a stream version and/or a point in time. */
  asOf?: { version?: bigint; time?: Date };
  snapshot?: SnapshotOptions<S>;
}

/** The event store port. */
export interface EventStore {
  appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<AppendResult>;
  readStream(streamId: string, opts?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(opts?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(opts: SubscribeOptions): Subscription;
  /** Async-iterable read of the global log in pages, with flat memory. */
  streamAll(opts?: { fromPosition?: bigint; types?: string[]; batchSize?: number }): AsyncIterable<RecordedEvent>;
  streamExists(streamId: string): Promise<boolean>;
  /**
   * The stored events with these ids, in global order (ids not stored are left out). Lets a caller that
   * lost an append's acknowledgement, or handles a command id twice, find what was written.
   */
  readEventsById(ids: string[]): Promise<RecordedEvent[]>;
  aggregateStream<S>(streamId: string, opts: AggregateOptions<S>): Promise<{ state: S; version: bigint }>;
  close(): Promise<void>;
}

/**
 * Turns an old shape of an event type into the next one. Registered per type and `fromSchemaVersion`;
 * events are stored with their type's current schema version and upgraded step by step on read.
 *
 * @example
 * ```ts
 * const upcaster: Upcaster = { type: 'ItemAdded', fromSchemaVersion: 1, upcast: (d) => ({ ...(d as object), qty: 1 }) };
 * ```
 */
export interface Upcaster {
  type: string;
  fromSchemaVersion: number;
  upcast(data: unknown, metadata: Record<string, unknown> | undefined): unknown;
}

/**
 * Code that must run inside an append's transaction, after its events are inserted: inline projections
 * use it so the read model and the events commit together. Throwing rolls the append back (the caller gets
 * the error, nothing is stored). Hooks run on new events only, never on an idempotent retry.
 *
 * @example
 * ```ts
 * const counter: AppendHook = {
 *   name: 'event-counter',
 *   setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS event_count (n INTEGER NOT NULL)'),
 *   apply: (events, tx) => tx.run('UPDATE event_count SET n = n + ?', [events.length]).then(() => undefined),
 * };
 * const store = await openSqliteEventStore({ appendHooks: [counter] });
 * ```
 */
export interface AppendHook {
  name: string;
  /** Runs once when the store opens, e.g. to create read-model tables. */
  setup?(db: SqlExecutor): Promise<void>;
  apply(events: RecordedEvent[], tx: SqlExecutor): Promise<void> | void;
}
