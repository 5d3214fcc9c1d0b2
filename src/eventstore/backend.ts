import type { SqlExecutor } from '../storage/port.js';
import type { AppendResult, ExpectedVersion } from './types.js';

/**
 * The small internal port each storage engine implements; `createEventStore` wraps it with validation,
 * upcasting, subscriptions, streaming reads and aggregation, so those behave identically on every engine.
 * @module
 */

/** A validated event, already serialized, ready to insert. */
export interface PreparedEvent {
  id: string;
  /** True when the caller gave the id (only then can it already be stored). */
  idGiven: boolean;
  type: string;
  /** JSON text. */
  data: string;
  /** JSON text or null. */
  metadata: string | null;
  schemaVersion: number;
  /** UTF-8 size of data + metadata, for limits and metrics. */
  bytes: number;
}

/** One validated append. */
export interface AppendRequest {
  streamId: string;
  events: PreparedEvent[];
  expectedVersion: ExpectedVersion;
  /** Milliseconds since epoch, from the store's clock. */
  recordedAt: number;
}

/**
 * A stored event as the engine returns it, before upcasting. Engines build it with the keys in this order and
 * leave `metadata` out when there is none, so an event no upcaster touches is returned to the caller as it is.
 */
export interface StoredEvent {
  id: string;
  streamId: string;
  streamVersion: bigint;
  globalPosition: bigint;
  type: string;
  data: unknown;
  recordedAt: Date;
  schemaVersion: number;
  metadata?: Record<string, unknown>;
}

/** A stored snapshot row. */
export interface SnapshotRecord {
  schemaVersion: number;
  version: bigint;
  state: unknown;
}

/** A page of the log restricted to some log partitions (see `readPartitions`). */
export interface PartitionPageRequest {
  /** Inclusive. */
  fromPosition: bigint;
  maxCount: number;
  /** P: a stream's partition is `bucketOf(streamId, partitionCount)`. */
  partitionCount: number;
  /** The partitions wanted (0 … P-1). */
  partitions: readonly number[];
}

/** The events of a partition page, and how far the page is complete. */
export interface PartitionPage {
  /**
   * In log order. Engines may return a few events of other partitions too (rows stored before the engine
   * could filter them); callers filter again.
   */
  events: StoredEvent[];
  /**
   * Every wanted event at a position from `fromPosition` to `through` is in `events`, and no event can
   * later commit at or below it: a reader may checkpoint every wanted partition here. Null on an empty log.
   */
  through: bigint | null;
}

/** An open transaction on the store's database in which appends commit together with other SQL. */
export interface BackendTransaction {
  sql: SqlExecutor;
  /** Appends inside the transaction (in its own savepoint: a failed append leaves nothing behind). */
  append(request: AppendRequest): Promise<AppendResult>;
}

/**
 * Appends inside a synchronous transaction on the store's connection (SQLite without inline projections):
 * `append` is valid only inside `write(fn)`, which runs `fn` in one transaction.
 */
export interface SyncBackendWriter {
  write<T>(fn: () => T): T;
  append(req: AppendRequest): AppendResult;
}

/** The engine-specific part of an event store. */
export interface EventStoreBackend {
  /** Appends atomically: idempotent-id check, version check and insert in one transaction. */
  append(request: AppendRequest): Promise<AppendResult>;
  /** Events of one stream in version order (descending when `backward`); `fromVersion` inclusive. */
  readStream(
    streamId: string,
    opts: { fromVersion: bigint | undefined; maxCount: number | undefined; backward: boolean },
  ): Promise<StoredEvent[]>;
  /** A page of the global log from `fromPosition` (inclusive), never passing an event that may still commit below. */
  readAll(opts: { fromPosition: bigint; maxCount: number | undefined; types: string[] | undefined }): Promise<StoredEvent[]>;
  /**
   * Like `readAll`, but only events of streams in some log partitions, filtered by the database: a member of
   * a consumer group reads its share of the log, not all of it.
   */
  readPartitions(req: PartitionPageRequest): Promise<PartitionPage>;
  /** Stored events with these ids (any order; missing ids are simply absent). */
  readByIds(ids: readonly string[]): Promise<StoredEvent[]>;
  /** The stream's current version, `0n` when it does not exist. */
  streamVersion(streamId: string): Promise<bigint>;
  readSnapshot(streamId: string, name: string): Promise<SnapshotRecord | null>;
  /** Upserts a snapshot unless a newer one (same schema version, higher stream version) is already stored. */
  writeSnapshot(streamId: string, name: string, snapshot: { schemaVersion: number; version: bigint; stateJson: string }): Promise<void>;
  /**
   * Resolves when new events may be readable: on a local append or a server notification, or after
   * `timeoutMs` at the latest (polling covers writers the engine cannot notify about). Resolves early on abort.
   */
  waitForEvents(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** The synchronous writer, on engines that have one (null when it does not apply, e.g. with append hooks). */
  syncWriter?(): SyncBackendWriter | null;
  /** Runs `fn` in one transaction on the store's database; appends made through it commit with its SQL. */
  transaction<T>(fn: (tx: BackendTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
