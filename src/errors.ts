/**
 * Every error Tessera throws: {@link TesseraError} and its subclasses, each with a stable `code`, a `hint`
 * saying how to fix the problem, an ES2022 `cause` and `retryable`. This is the one module errors are
 * imported from; the classes live in `src/errors/<area>.ts`, one file per pattern, so each stays small.
 * @example
 * ```ts
 * import { ConcurrencyError, isTesseraError } from 'tessera/errors';
 * try { await store.appendToStream('order-1', events, { expectedVersion: 3n }); }
 * catch (e) { if (isTesseraError(e, 'CONCURRENCY_CONFLICT')) console.log('reload and retry:', e.hint); else throw e; }
 * ```
 * @module
 */
export { TesseraError, isTesseraError, type TesseraErrorCode, type TesseraErrorOptions } from './errors/base.js';
export {
  ConcurrencyError, EventIdConflictError, FencingError, IndeterminateCommitError, InvalidArgumentError, StorageError, StoreClosedError,
} from './errors/core.js';
export { BusUnavailableError, EventOutOfOrderError } from './errors/messaging.js';
export {
  NonRetryableError, SagaCompensationFailedError, SagaDeadlineExceededError, SagaNotFoundError, SagaStateError, SagaTimeoutError,
  SagaVersionMissingError, UnknownSagaError,
} from './errors/saga.js';
export {
  CommandValidationError, ConsistencyTimeoutError, ProjectionFailedError, UnknownCommandError, UnknownProjectionError,
} from './errors/cqrs.js';
export { AdminTokenRequiredError, NotFoundError, UnsafeBindError } from './errors/server.js';
export {
  FollowerCheckpointConflictError, MalformedSessionTokenError, NotAStandbyError, PrimaryUnavailableError, ReplicaDivergedError, ReplicaUnavailableError,
} from './errors/replication.js';
export { ArchiveMismatchError, ConsumerHandlerError, EventsPartitioningMismatchError, GroupNotDrainedError, NotPartitionedError, OverlappingPartitionError, PartitionCountMismatchError, RetentionRefusedError, UnknownConsumerGroupError } from './errors/partitioning.js';
export { InvalidShardMapError, ShardUnavailableError, StaleShardMapError, UnknownShardError, UnsupportedQueryError } from './errors/sharding.js';
