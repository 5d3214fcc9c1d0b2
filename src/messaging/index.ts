/**
 * The messaging subpath: the event bus port with its in-process and NATS JetStream adapters, the outbox
 * relay (the store is the outbox) and the inbox (exactly-once effects on the consumer side).
 *
 * @example
 * ```ts
 * import { InProcessEventBus, openInbox } from 'tessera/messaging';
 * ```
 * @module
 */
export type {
  BusHandler,
  BusMessage,
  BusSubscribeOptions,
  BusSubscription,
  DeadLetter,
  EventBus,
  PublishAck,
  PublishAllResult,
  RedeliveryBackoff,
} from './types.js';
export { InProcessEventBus, type InProcessBusOptions } from './in-process.js';
export { Inbox, openInbox, type InboxOptions, type InboxOutcome } from './inbox.js';
export { causedBy, HEADERS as BUS_HEADERS } from './envelope.js';
export { openEventBus, openNatsEventBus, type NatsEventBusOptions } from './open.js';
export { NatsEventBus } from './nats/bus.js';
export { categoryOf, deadLetterSubject, subjectFor, typeToken } from './subjects.js';
export { OutboxRelay, startOutboxRelay, type OutboxRelayOptions } from './relay.js';
