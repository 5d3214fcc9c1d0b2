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

// Errors: every error is a TesseraError with a stable code and a hint
export {
  BusUnavailableError,
  CommandValidationError,
  ConcurrencyError,
  ConsistencyTimeoutError,
  EventIdConflictError,
  EventOutOfOrderError,
  FencingError,
  IndeterminateCommitError,
  InvalidArgumentError,
  isTesseraError,
  NonRetryableError,
  ProjectionFailedError,
  SagaCompensationFailedError,
  SagaDeadlineExceededError,
  SagaNotFoundError,
  SagaStateError,
  SagaTimeoutError,
  SagaVersionMissingError,
  StorageError,
  StoreClosedError,
  TesseraError,
  type TesseraErrorCode,
  type TesseraErrorOptions,
  UnknownCommandError,
  UnknownProjectionError,
  UnknownSagaError,
} from './errors.js';
// Event store: open, append, read, subscribe, aggregate
export {
  type AggregateOptions,
  type AppendHook,
  type AppendOptions,
  type AppendResult,
  type CommonStoreOptions,
  DEFAULT_MAX_EVENT_BYTES,
  EVENT_TYPE_MAX_BYTES,
  type EventStore,
  type ExpectedVersion,
  MAX_EVENTS_PER_APPEND,
  type NewEvent,
  openPostgresEventStore,
  openSqliteEventStore,
  type PostgresEventStoreOptions,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type RetryPolicy,
  type SnapshotOptions,
  type SqliteEventStoreOptions,
  storeDatabase,
  type StoreTransaction,
  storeTransaction,
  STREAM_ID_MAX_BYTES,
  type SubscribeOptions,
  type Subscription,
  type Upcaster,
} from './eventstore/index.js';
// Storage: the SQL port, drivers, migrations and leases
export {
  type Migration,
  openSqlite,
  runMigrations,
  type SqlDriver,
  type SqlExecutor,
  type SqliteOptions,
  type SqlValue,
} from './storage/index.js';
export {
  type Lease,
  type LeaseInfo,
  LeaseTable,
  type LeaseTableOptions,
} from './storage/lease.js';
export {
  type Clock,
} from './support/clock.js';
export {
  type IdGenerator,
} from './support/ids.js';
// CQRS: deciders, command handling, buses, projections, read-your-writes
export {
  type BusOptions,
  COMMAND_ID_MAX_BYTES,
  CommandBus,
  type CommandResult,
  createCommandBus,
  createQueryBus,
  type Decider,
  deciderSpec,
  type DeciderSpecThen,
  type DeciderSpecWhen,
  type ExpectedEvent,
  handleCommand,
  type HandleCommandOptions,
  type HandlerDefinition,
  inlineProjections,
  loggingMiddleware,
  type MessageEnvelope,
  type MessageMap,
  type Middleware,
  type PayloadSchema,
  type Projection,
  projection,
  type ProjectionDefinition,
  projectionRef,
  type ProjectionRef,
  projectionSpec,
  type ProjectionSpecThen,
  projectionStatus,
  type ProjectionStatus,
  Projector,
  type ProjectorOptions,
  QueryBus,
  type QueryDefinition,
  type QueryOptions,
  type RebuildProgress,
  RebuildWatch,
  requestRebuild,
  retryProjection,
  skipProjection,
  type SpecEvent,
  startProjector,
  type TableNames,
  type TracingHooks,
  tracingMiddleware,
  waitFor,
  type WaitForOptions,
} from './cqrs/index.js';
// Messaging: event bus port, in-process and NATS JetStream adapters, outbox relay, inbox
export {
  BUS_HEADERS,
  type BusHandler,
  type BusMessage,
  type BusSubscribeOptions,
  type BusSubscription,
  categoryOf,
  causedBy,
  type DeadLetter,
  deadLetterSubject,
  type EventBus,
  Inbox,
  type InboxOptions,
  type InboxOutcome,
  type InProcessBusOptions,
  InProcessEventBus,
  NatsEventBus,
  type NatsEventBusOptions,
  openEventBus,
  openInbox,
  openNatsEventBus,
  OutboxRelay,
  type OutboxRelayOptions,
  type PublishAck,
  type PublishAllResult,
  type RedeliveryBackoff,
  startOutboxRelay,
  subjectFor,
  typeToken,
} from './messaging/index.js';
// Sagas: durable orchestration with compensation, and choreography
export {
  DEFAULT_COMPENSATION_RETRY,
  DEFAULT_STEP_RETRY,
  defineSaga,
  isTerminalStatus,
  openSagaEngine,
  type Participant,
  type ParticipantOptions,
  type Reaction,
  type ReactionContext,
  SAGA_ID_MAX_BYTES,
  type SagaDefinition,
  type SagaDefinitionInput,
  type SagaEngine,
  type SagaEngineOptions,
  type SagaEngineStats,
  type SagaInstance,
  type SagaLifecycleData,
  type SagaLifecycleEventType,
  type SagaListOptions,
  type SagaRetryPolicy,
  type SagaStatus,
  type SagaStepDefinition,
  type SagaStepRecord,
  sagaStreamId,
  startParticipant,
  type StepContext,
  TERMINAL_STATUSES,
} from './saga/index.js';

// Replication: log-shipping followers, replica verification, leader-follower replica sets
export {
  canonicalJson,
  type CatchUpResult,
  type ConsistencyLevel,
  decodeSessionToken,
  type Divergence,
  encodeSessionToken,
  type FollowerCheckpoint,
  type FollowerTarget,
  formatLsn,
  type LagPoint,
  type LogShippingFollower,
  type LogShippingFollowerOptions,
  openLogShippingFollower,
  openReplicaSet,
  parseLsn,
  type ReadConsistency,
  type ReadCounters,
  type ReplicaAppendResult,
  type ReplicaConfig,
  ReplicaSession,
  ReplicaSet,
  type ReplicaSetOptions,
  type ReplicaSetStatus,
  type ReplicaStatus,
  type RotationPolicy,
  type VerifiedField,
  type VerifyOptions,
  type VerifyReport,
  verifyReplica,
} from './replication/index.js';

// Partitioning: consumer groups over the partitioned log; table partitions and segment files with retention
export {
  ConsumerHandlerError, GroupNotDrainedError, NotPartitionedError, OverlappingPartitionError, PartitionCountMismatchError, RetentionRefusedError,
  UnknownConsumerGroupError,
} from './errors.js';
export {
  assignPartitions,
  type ConsumerContext,
  ConsumerGroup,
  type ConsumerGroupOptions,
  consumerGroupStatus,
  type ConsumerGroupStatus,
  type ConsumerHandler,
  type GroupStatusOptions,
  listConsumerGroups,
  MAX_PARTITIONS,
  type MemberStatus,
  openConsumerGroup,
  partitionOf,
  partitionsOf,
  type PartitionStatus,
  repartitionConsumerGroup,
  requirePartitionCount,
} from './partitioning/index.js';

// Sharding: strategies, the versioned shard map, the router, the sharded event store, scatter-gather
export { InvalidShardMapError, ShardUnavailableError, StaleShardMapError, UnknownShardError, UnsupportedQueryError } from './errors.js';
export {
  addShard, applyShardMap, buildStrategy, type CatalogConnection, type CatalogState, DEFAULT_SLOTS, evenOwners, type HashSpec, type KeyRange, openShardCatalog,
  openShardedEventStore, pinKey, planAddShard, planMoveSlots, POSITION_STRIDE, type RangeSpec, type Route, ShardCatalog, type ShardConnection,
  type ShardCursor, ShardedEventStore, type ShardedEventStoreOptions, type ShardInfo, type ShardMap, ShardRouter, type ShardStrategy,
  slotsByShard, type StrategySpec, validateShardMap,
} from './sharding/index.js';

// Server: the HTTP service (Fastify, OpenAPI, metrics, live events, dashboard) and its instrumentation
export { AdminTokenRequiredError, NotFoundError, UnsafeBindError } from './errors.js';
export {
  createMetrics, createServer, type DashboardPanel, instrumentSaga, instrumentStore, listenService, sagaOverview, type ServerOptions,
  StepTimeline, type TesseraApp, type TesseraMetrics,
} from './server/index.js';
