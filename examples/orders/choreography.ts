import {
  type EventBus, type EventStore, type NewEvent, NonRetryableError, type Participant, type ReactionContext, type RecordedEvent, startParticipant,
} from '../../src/index.js';
import { effects, type Emit, type Order, type OrderServices } from './services.js';

/** The choreographed order's stream: every participant's outcome for the order is appended here. */
export const choreographedOrderStream = (orderId: string): string => `corder-${orderId}`;

/** Events that end a choreographed order. */
export const CHOREOGRAPHY_OUTCOMES = ['OrderShipped', 'OrderCancelled', 'OrderRefused'] as const;

type Data = { order: Order; reason?: string };

/**
 * The OrderSaga as choreography instead of orchestration: no coordinator, each service reacts to the events of
 * the others over the event bus and emits its own; compensation is reacting to failure events.
 *
 * ```
 * OrderRequested ─inventory→ InventoryReserved ─payment→ PaymentAccepted ─shipping→ OrderShipped
 *        └→ OrderRefused (out of stock)   └→ PaymentDeclined ─inventory→ OrderCancelled
 *                                                       ShipmentFailed ─payment→ PaymentReversed ─inventory→ OrderCancelled
 * ```
 * Each reaction's SQL, its events and its dedupe mark commit in one transaction (the participant's), and the
 * store's outbox relay publishes what it emits, so every effect happens once whatever the bus redelivers.
 *
 * @example
 * ```ts
 * await startOutboxRelay({ store, bus });
 * const stop = await startChoreographedOrders({ store, bus, services });
 * await store.appendToStream(choreographedOrderStream('o-1'), [{ type: 'OrderRequested', data: { order } }]);
 * ```
 */
export async function startChoreographedOrders(o: { store: EventStore; bus: EventBus; services: OrderServices }): Promise<() => Promise<void>> {
  const { store, bus, services } = o;
  const next = (ctx: ReactionContext, data: Data, type: string, reason?: string): Promise<unknown> =>
    ctx.emit(choreographedOrderStream(data.order.orderId), [{ type, data: { order: data.order, ...(reason === undefined ? {} : { reason }) } } satisfies NewEvent]);
  const emitter = (ctx: ReactionContext): Emit => (s, e) => ctx.tx.appendToStream(s, e);
  const refusal = (e: unknown): string | null => (e instanceof NonRetryableError ? e.message : null);
  const data = (e: RecordedEvent): Data => e.data as Data;
  const releaseAndCancel = async (e: RecordedEvent, ctx: ReactionContext): Promise<void> => {
    await effects.release(ctx.tx.sql, emitter(ctx), data(e).order.orderId);
    await next(ctx, data(e), 'OrderCancelled', data(e).reason);
  };

  const participants: Participant[] = [
    await startParticipant({
      store, bus, name: 'orders-inventory',
      on: {
        OrderRequested: async (e, ctx) => {
          const d = data(e);
          // Checked first, so a refusal is its own outcome; a race lost after the check throws, rolls the whole
          // reaction back, and the bus redelivers it to be checked again.
          for (const item of d.order.items) {
            const [row] = await ctx.tx.sql.query<{ available: unknown }>('SELECT available FROM orders_stock WHERE sku = ?', [item.sku]);
            if (Number(row?.available ?? 0) < item.qty) return void (await next(ctx, d, 'OrderRefused', `out of stock: ${item.sku}`));
          }
          await effects.reserve(ctx.tx.sql, emitter(ctx), d.order.orderId, d.order.items);
          await next(ctx, d, 'InventoryReserved');
        },
        PaymentDeclined: releaseAndCancel,
        PaymentReversed: releaseAndCancel,
      },
    }),
    await startParticipant({
      store, bus, name: 'orders-payment',
      on: {
        InventoryReserved: async (e, ctx) => {
          const d = data(e);
          try {
            services.decideCharge(d.order.payment);
          } catch (err) {
            return void (await next(ctx, d, 'PaymentDeclined', refusal(err) ?? String(err)));
          }
          await effects.charge(ctx.tx.sql, emitter(ctx), d.order.orderId, d.order.payment);
          await next(ctx, d, 'PaymentAccepted');
        },
        ShipmentFailed: async (e, ctx) => {
          await effects.refund(ctx.tx.sql, emitter(ctx), data(e).order.orderId);
          await next(ctx, data(e), 'PaymentReversed', data(e).reason);
        },
      },
    }),
    await startParticipant({
      store, bus, name: 'orders-shipping',
      on: {
        PaymentAccepted: async (e, ctx) => {
          const d = data(e);
          let address: string;
          try {
            address = services.decideShipment(d.order);
          } catch (err) {
            const reason = refusal(err);
            if (reason === null) throw err; // a timeout: the bus redelivers, which is the retry
            return void (await next(ctx, d, 'ShipmentFailed', reason));
          }
          await effects.ship(ctx.tx.sql, emitter(ctx), d.order.orderId, address);
          await next(ctx, d, 'OrderShipped');
        },
      },
    }),
  ];
  return async () => {
    for (const p of participants) await p.stop();
  };
}
