/**
 * The event store subpath.
 *
 * @example
 * ```ts
 * import { openSqliteEventStore } from 'tessera/eventstore';
 * ```
 * @module
 */
export type {
  AggregateOptions,
  AppendHook,
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  RetryPolicy,
  SnapshotOptions,
  SubscribeOptions,
  Subscription,
  Upcaster,
} from './types.js';
export type { CommonStoreOptions } from './options.js';
export { storeDatabase, storeTransaction, type StoreTransaction } from './store.js';
export { openSqliteEventStore, type SqliteEventStoreOptions } from './sqlite/open.js';
export { openPostgresEventStore, type PostgresEventStoreOptions } from './postgres/open.js';
export type { EventsPartitionInterval, PostgresEventsPartitioning } from './postgres/partitioned-schema.js';
export {
  DEFAULT_MAX_EVENT_BYTES,
  EVENT_TYPE_MAX_BYTES,
  MAX_EVENTS_PER_APPEND,
  STREAM_ID_MAX_BYTES,
} from './validation.js';
