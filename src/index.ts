/**
 * Tessera: event sourcing, CQRS, sagas, sharding, partitioning and replication for Node.js services.
 *
 * @example
 * ```ts
 * import { openSqliteEventStore, ConcurrencyError } from 'tessera';
 * const store = await openSqliteEventStore({ path: './data/tessera.db' });
 * ```
 * @module
 */
export {
  ConcurrencyError,
  EventIdConflictError,
  IndeterminateCommitError,
  InvalidArgumentError,
  isTesseraError,
  StorageError,
  StoreClosedError,
  TesseraError,
  type TesseraErrorCode,
  type TesseraErrorOptions,
} from './errors.js';
export type {
  AggregateOptions,
  AppendHook,
  AppendOptions,
  AppendResult,
  CommonStoreOptions,
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
} from './eventstore/index.js';
export {
  DEFAULT_MAX_EVENT_BYTES,
  EVENT_TYPE_MAX_BYTES,
  MAX_EVENTS_PER_APPEND,
  openSqliteEventStore,
  openPostgresEventStore,
  type PostgresEventStoreOptions,
  STREAM_ID_MAX_BYTES,
  storeDatabase,
  storeTransaction,
  type StoreTransaction,
  type SqliteEventStoreOptions,
} from './eventstore/index.js';
export type { Clock } from './support/clock.js';
export type { IdGenerator } from './support/ids.js';
export { openSqlite, runMigrations, type Migration, type SqlDriver, type SqlExecutor, type SqlValue, type SqliteOptions } from './storage/index.js';
export { COMMAND_ID_MAX_BYTES, CommandBus, createCommandBus, createQueryBus, deciderSpec, handleCommand, loggingMiddleware, projection, projectionRef, QueryBus, tracingMiddleware, waitFor, type MessageEnvelope, type BusOptions, type CommandResult, type Decider, type DeciderSpecThen, type DeciderSpecWhen, type ExpectedEvent, type HandleCommandOptions, type HandlerDefinition, type MessageMap, type Middleware, type PayloadSchema, type Projection, type ProjectionDefinition, type ProjectionRef, type QueryDefinition, type QueryOptions, type TableNames, type TracingHooks, type WaitForOptions } from './cqrs/index.js';
export { BusUnavailableError, EventOutOfOrderError } from './errors.js';
export { BUS_HEADERS, categoryOf, causedBy, deadLetterSubject, InProcessEventBus, Inbox, NatsEventBus, openEventBus, openInbox, openNatsEventBus, OutboxRelay, startOutboxRelay, subjectFor, typeToken, type BusHandler, type BusMessage, type BusSubscribeOptions, type BusSubscription, type DeadLetter, type EventBus, type InboxOptions, type InboxOutcome, type InProcessBusOptions, type NatsEventBusOptions, type OutboxRelayOptions, type PublishAck, type PublishAllResult, type RedeliveryBackoff } from './messaging/index.js';
export { CommandValidationError, ConsistencyTimeoutError, FencingError, ProjectionFailedError, UnknownCommandError, UnknownProjectionError } from './errors.js';
export { LeaseTable, type Lease, type LeaseInfo, type LeaseTableOptions } from './storage/lease.js';
export { defineSaga, DEFAULT_COMPENSATION_RETRY, DEFAULT_STEP_RETRY, isTerminalStatus, openSagaEngine, SAGA_ID_MAX_BYTES, sagaStreamId, TERMINAL_STATUSES, type SagaDefinition, type SagaDefinitionInput, type SagaEngine, type SagaEngineOptions, type SagaEngineStats, type SagaInstance, type SagaLifecycleData, type SagaLifecycleEventType, type SagaListOptions, type SagaRetryPolicy, type SagaStatus, type SagaStepDefinition, type SagaStepRecord, type StepContext } from './saga/index.js';
export { NonRetryableError, SagaCompensationFailedError, SagaDeadlineExceededError, SagaNotFoundError, SagaStateError, SagaTimeoutError, SagaVersionMissingError, UnknownSagaError } from './errors.js';
export { inlineProjections, projectionSpec, projectionStatus, Projector, RebuildWatch, requestRebuild, retryProjection, skipProjection, startProjector, type ProjectionSpecThen, type ProjectionStatus, type ProjectorOptions, type RebuildProgress, type SpecEvent } from './cqrs/index.js';
export { startParticipant, type Participant, type ParticipantOptions, type Reaction, type ReactionContext } from './saga/index.js';
