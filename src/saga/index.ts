/**
 * Orchestrated sagas: durable step logs with compensation, retries, timeouts, signals, leases with fencing
 * and crash recovery, all in the event store's own database.
 *
 * @example
 * ```ts
 * import { defineSaga, openSagaEngine } from 'tessera';
 * const saga = defineSaga({ name: 'hello', version: 1, steps: [{ name: 'greet', action: async () => 'hi' }] });
 * const engine = await openSagaEngine({ store, sagas: [saga] });
 * await engine.start('hello', 'h-1', {});
 * ```
 * @module
 */
export { startParticipant, type Participant, type ParticipantOptions, type Reaction, type ReactionContext } from './choreography.js';
export { defineSaga, DEFAULT_COMPENSATION_RETRY, DEFAULT_STEP_RETRY } from './define.js';
export { openSagaEngine, SAGA_ID_MAX_BYTES, type SagaEngineStats } from './engine.js';
export { sagaStreamId, type SagaLifecycleData, type SagaLifecycleEventType } from './events.js';
export {
  isTerminalStatus,
  TERMINAL_STATUSES,
  type SagaDefinition,
  type SagaDefinitionInput,
  type SagaEngine,
  type SagaEngineOptions,
  type SagaInstance,
  type SagaListOptions,
  type SagaRetryPolicy,
  type SagaStatus,
  type SagaStepDefinition,
  type SagaStepRecord,
  type StepContext,
} from './types.js';
