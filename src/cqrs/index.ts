/**
 * The CQRS subpath: deciders and command handling, command/query buses, projections (inline and async,
 * rebuilds), read-your-writes waits and Given/When/Then test helpers.
 *
 * @example
 * ```ts
 * import { handleCommand, deciderSpec } from 'tessera';
 * ```
 * @module
 */
export { COMMAND_ID_MAX_BYTES, type CommandResult, type Decider, type HandleCommandOptions } from './decider.js';
export { handleCommand } from './handle-command.js';
export { deciderSpec, type DeciderSpecThen, type DeciderSpecWhen, type ExpectedEvent } from './decider-spec.js';
export type { MessageEnvelope, BusOptions, HandlerDefinition, Middleware, PayloadSchema } from './bus.js';
export { CommandBus, createCommandBus, createQueryBus, QueryBus, type MessageMap, type QueryDefinition, type QueryOptions } from './buses.js';
export { loggingMiddleware, tracingMiddleware, type TracingHooks } from './middleware.js';
export { projection, type Projection, type ProjectionDefinition, type TableNames } from './projection.js';
export { projectionRef, waitFor, type ProjectionRef, type WaitForOptions } from './wait.js';
export { inlineProjections } from './inline.js';
export { Projector, startProjector, type ProjectorOptions } from './projector.js';
export { projectionStatus, type ProjectionStatus } from './status.js';
export { requestRebuild, retryProjection, skipProjection } from './admin.js';
export { projectionSpec, type ProjectionSpecThen } from './projection-spec.js';
export type { SpecEvent } from './decider-spec.js';
export { RebuildWatch, type RebuildProgress } from './rebuild-watch.js';
