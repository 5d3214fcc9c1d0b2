import type { RecordedEvent } from '../eventstore/types.js';

/**
 * The event bus port: publish recorded events with an acknowledgement, consume them through durable,
 * named consumers with ack (the handler resolves) or nack (the handler throws: redelivered with backoff,
 * dead-lettered after `maxDeliver` attempts). Two adapters implement it: in-process (the default, no
 * server) and NATS JetStream. Delivery is at least once; pair a consumer with an {@link Inbox} for
 * exactly-once effects.
 * @module
 */

/**
 * One delivery of an event to a consumer.
 *
 * @example
 * ```ts
 * const handler: BusHandler = (m: BusMessage) => console.log(m.subject, m.event.streamVersion, m.deliveryCount);
 * ```
 */
export interface BusMessage {
  /** The event as the store recorded it. */
  event: RecordedEvent;
  /** The subject it was published on: `<prefix>.<category>.<eventType>`. */
  subject: string;
  /** From the event's metadata (`correlationId`), else the event's own id. */
  correlationId: string;
  /** From the event's metadata (`causationId`), else the event's own id. */
  causationId: string;
  /** 1 on the first delivery, then 2, 3, … */
  deliveryCount: number;
  /** The message's sequence on the bus (JetStream stream sequence; in-process log index). */
  sequence: number;
}

/**
 * Resolving acknowledges the message; throwing negatively acknowledges it (redelivery after a backoff).
 *
 * @example
 * ```ts
 * const handler: BusHandler = async (m) => { if (!(await mailer.send(m.event.data))) throw new Error('retry later'); };
 * ```
 */
export type BusHandler = (message: BusMessage) => Promise<void> | void;

/**
 * Backoff between redeliveries of a message whose handler threw.
 *
 * @example
 * ```ts
 * await bus.subscribe({ consumer: 'mailer', handler, backoff: { initialDelayMs: 500, maxDelayMs: 30_000 } });
 * ```
 */
export interface RedeliveryBackoff {
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Options of {@link EventBus.subscribe}. A consumer's filter, `maxDeliver` and `ackWaitMs` are fixed when it
 * is first created; a later subscription with another filter is refused. Members of one group run in
 * parallel, so a stream's order across members is kept only with an ordered {@link Inbox}.
 *
 * @example
 * ```ts
 * await bus.subscribe({ consumer: 'billing', category: 'order', maxDeliver: 10, concurrency: 8, handler });
 * ```
 */
export interface BusSubscribeOptions {
  /**
   * Durable consumer name: subscriptions with the same name (in one process or several) form one group and
   * share the work; the consumer's position survives restarts. Letters, digits, `_` and `-`.
   */
  consumer: string;
  handler: BusHandler;
  /** Only events of this category (stream id prefix before the first `-`, sanitized); default all. */
  category?: string;
  /** Only events of this type (sanitized like the subject token); default all. */
  eventType?: string;
  /** Deliveries of one message before it is dead-lettered (default 5). */
  maxDeliver?: number;
  /** Default 200 ms doubling to 5 s. */
  backoff?: RedeliveryBackoff;
  /** How long the bus waits for an ack before redelivering (default 30 s; extended while the handler runs). */
  ackWaitMs?: number;
  /**
   * How long a message whose handler throws a retryable `EVENT_OUT_OF_ORDER` error (see {@link Inbox}) is
   * retried locally, without using up a delivery, before it is nacked (NATS adapter; default 60 s).
   */
  orderWaitMs?: number;
  /** Messages this subscription handles at once; messages of one stream are still handled one at a time, in order (default 32 on NATS, 1 in-process). */
  concurrency?: number;
}

/**
 * A running subscription.
 *
 * @example
 * ```ts
 * const sub = await bus.subscribe({ consumer: 'audit', handler });
 * await sub.stop();
 * ```
 */
export interface BusSubscription {
  readonly consumer: string;
  /** Stops fetching; resolves when the handler calls in flight have finished and been acked or nacked. */
  stop(): Promise<void>;
  /** Settles when the subscription stops. */
  readonly done: Promise<void>;
}

/**
 * The bus's acknowledgement of a publish.
 *
 * @example
 * ```ts
 * const { sequence, duplicate } = await bus.publish(event);
 * ```
 */
export interface PublishAck {
  /** Sequence of the stored message. */
  sequence: number;
  /** True when the bus already had a message with this event id (a retried publish), so it stored nothing. */
  duplicate: boolean;
}

/**
 * Result of {@link EventBus.publishAll}: the acks of the longest acknowledged prefix, and why it stopped.
 *
 * @example
 * ```ts
 * const { acks, error } = await bus.publishAll(page);
 * if (error) console.log(`published ${acks.length} of ${page.length}, retrying the rest`);
 * ```
 */
export interface PublishAllResult {
  acks: PublishAck[];
  /** Set when `acks.length < events.length`: the first event not acknowledged failed with this. */
  error?: unknown;
}

/**
 * A message that ran out of deliveries.
 *
 * @example
 * ```ts
 * for (const d of await bus.deadLetters({ consumer: 'billing' })) console.log(d.event.id, d.deliveries, d.error);
 * ```
 */
export interface DeadLetter {
  consumer: string;
  event: RecordedEvent;
  /** The original subject. */
  subject: string;
  /** The original message's bus sequence. */
  sequence: number;
  deliveries: number;
  /** The handler's last error message, when the consumer saw it fail. */
  error: string | undefined;
  deadLetteredAt: Date;
}

/**
 * The event bus port.
 *
 * @example
 * ```ts
 * const bus: EventBus = await openEventBus(process.env.TESSERA_BUS);
 * await bus.subscribe({ consumer: 'audit', handler: (m) => console.log(m.event.type) });
 * ```
 */
export interface EventBus {
  readonly kind: 'in-process' | 'nats-jetstream';
  /** Subject prefix (`tessera` by default). */
  readonly prefix: string;
  /** Publishes one event and waits for the bus to store it. Re-publishing the same event id is deduplicated. */
  publish(event: RecordedEvent): Promise<PublishAck>;
  /**
   * Publishes events in order, pipelined, and returns the acks of the longest prefix the bus acknowledged:
   * a caller advances its checkpoint by `acks.length` and retries the rest.
   */
  publishAll(events: readonly RecordedEvent[]): Promise<PublishAllResult>;
  /** Starts a durable subscription (creating the consumer on first use). */
  subscribe(options: BusSubscribeOptions): Promise<BusSubscription>;
  /** Dead-lettered messages, oldest first, optionally of one consumer. */
  deadLetters(options?: { consumer?: string; limit?: number }): Promise<DeadLetter[]>;
  /** Stops every subscription and releases the connection. */
  close(): Promise<void>;
}
