import { InvalidArgumentError } from '../errors.js';
import { storeDatabase, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent } from '../eventstore/types.js';
import type { BusMessage, BusSubscription, EventBus } from '../messaging/types.js';
import { runMigrations } from '../storage/migrations.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';

/** What a choreography reaction gets besides the event. */
export interface ReactionContext {
  /** The reaction's transaction on the participant's store: its SQL and appends commit with the dedupe mark. */
  readonly tx: StoreTransaction;
  /** The delivery (correlation and causation ids, delivery count). */
  readonly message: BusMessage;
  /**
   * Appends events that continue the conversation: same correlation id, caused by the incoming event. They are
   * published by the store's outbox relay, so the reaction's effect and its outgoing events happen together.
   */
  emit(streamId: string, events: NewEvent[], opts?: { expectedVersion?: ExpectedVersion }): Promise<AppendResult>;
}

/** A reaction to one event type. Throwing rolls everything back; the bus redelivers (then dead-letters). */
export type Reaction = (event: RecordedEvent, ctx: ReactionContext) => Promise<void>;

/** Options of {@link startParticipant}. */
export interface ParticipantOptions {
  /** The participant's own store: its dedupe table, its effects and its outgoing events live there. */
  store: EventStore;
  bus: EventBus;
  /** The bus consumer name (a durable group: several processes with one name share the work). */
  name: string;
  /** Reactions by event type; other events are acknowledged and ignored. */
  on: Record<string, Reaction>;
  /** Deliveries before a message is dead-lettered (default 5). */
  maxDeliver?: number;
}

/** A running participant. */
export interface Participant {
  readonly name: string;
  stop(): Promise<void>;
}

const TABLE = 'tessera_choreography_inbox';

/**
 * Choreography, the other saga style: no orchestrator, each service reacts to the others' events and emits its
 * own, compensating by reacting to failure events. A participant makes each reaction exactly-once and atomic:
 * the dedupe mark (participant, event id), the reaction's SQL and the events it emits commit in one transaction
 * on its store, and the store's outbox relay publishes them. Delivery stays at least once; effects happen once.
 *
 * @example
 * ```ts
 * await startOutboxRelay({ store: paymentsStore, bus });
 * await startParticipant({
 *   store: paymentsStore, bus, name: 'payments',
 *   on: {
 *     OrderPlaced: async (e, { tx, emit }) => {
 *       const { orderId, amount } = e.data as { orderId: string; amount: number };
 *       if (amount > 100) return void (await emit(`payment-${orderId}`, [{ type: 'PaymentDeclined', data: { orderId } }]));
 *       await tx.sql.run('INSERT INTO charges (order_id, amount) VALUES (?, ?)', [orderId, amount]);
 *       await emit(`payment-${orderId}`, [{ type: 'PaymentCharged', data: { orderId } }]);
 *     },
 *   },
 * });
 * ```
 */
export async function startParticipant(options: ParticipantOptions): Promise<Participant> {
  const o = requireOptionsObject(options, 'options') as Partial<ParticipantOptions>;
  const name = requireBoundedString(o.name, 'name', 200);
  const on = requireOptionsObject(o.on, 'on') as Record<string, unknown>;
  for (const [type, fn] of Object.entries(on)) {
    if (typeof fn !== 'function') throw new InvalidArgumentError(`on.${type}`, 'is not a function', 'Pass on: { EventType: async (event, ctx) => { … } }.');
  }
  if (typeof o.bus?.subscribe !== 'function') throw new InvalidArgumentError('bus', 'is not an event bus', 'Pass an EventBus, e.g. new InProcessEventBus() or openNatsEventBus(…).');
  const store = o.store as EventStore;
  await runMigrations(storeDatabase(store), 'tessera_choreography_migrations', [
    { version: 1, name: 'choreography inbox', sql: `CREATE TABLE ${TABLE} (participant TEXT NOT NULL, event_id TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (participant, event_id))` },
  ]);
  const reactions = on as Record<string, Reaction>;
  const subscription: BusSubscription = await o.bus.subscribe({
    consumer: name,
    ...(o.maxDeliver === undefined ? {} : { maxDeliver: o.maxDeliver }),
    handler: async (message) => {
      const reaction = reactions[message.event.type];
      if (reaction === undefined) return;
      await storeTransaction(store, async (tx) => {
        const mark = await tx.sql.run(`INSERT INTO ${TABLE} (participant, event_id, applied_at) VALUES (?, ?, ?) ON CONFLICT (participant, event_id) DO NOTHING`, [
          name,
          message.event.id,
          Date.now(),
        ]);
        if (mark.changes === 0) return; // a redelivery: the reaction already committed
        await reaction(message.event, {
          tx,
          message,
          emit: (streamId, events, opts) =>
            tx.appendToStream(streamId, events, { ...opts, correlationId: message.correlationId, causationId: message.event.id }),
        });
      });
    },
  });
  return { name, stop: () => subscription.stop() };
}
