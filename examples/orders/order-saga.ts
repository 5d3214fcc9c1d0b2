import {
  defineSaga, type EventStore, handleCommand, type SagaDefinition, type SagaEngine, type SagaInstance, type SagaStepDefinition,
} from '../../src/index.js';
import { orderDecider, orderStream } from './order.js';
import type { Order, OrderServices } from './services.js';

/**
 * The seed's OrderSaga, made durable: reserve inventory, charge payment, create shipment; on a failure the
 * completed steps are compensated in reverse order (refund, then release). Unlike the in-memory original, a
 * crash at any point resumes from the saga log, a flaky payment gateway is retried with backoff, and a refund
 * that keeps failing leaves the order visibly `compensation_failed` instead of silently half-done.
 *
 * @example
 * ```ts
 * const engine = await openSagaEngine({ store, sagas: [orderSaga(services)] });
 * const result = await processOrder(engine, { orderId: 'o-1', items: [{ sku: 'apple', qty: 2 }], payment: { card: '4242', amount: 30 }, address: 'Main St 1' });
 * console.log(result.status); // 'completed'
 * ```
 * With `{ store }` the saga also records the order on its aggregate (`order-<id>`): placed as its first step,
 * confirmed as its last, rejected when the saga compensates — what the order list projection shows.
 */
export function orderSaga(services: OrderServices, aggregate?: { store: EventStore }): SagaDefinition<Order> {
  const [first, last] = aggregate === undefined ? [[], []] : orderAggregateSteps(aggregate.store);
  return defineSaga<Order>({
    name: 'OrderSaga',
    version: 1,
    deadlineMs: 60_000,
    compensationRetry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 1_000 },
    steps: [
      ...first,
      {
        name: 'reserveInventory',
        action: async ({ input }) => services.inventory.reserve(input.orderId, input.items),
        compensate: async ({ input }) => services.inventory.release(input.orderId),
      },
      {
        name: 'chargePayment',
        retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 500 },
        timeoutMs: 5_000,
        action: async ({ input }) => services.payment.charge(input.orderId, input.payment),
        compensate: async ({ input }) => services.payment.refund(input.orderId),
      },
      {
        name: 'createShipment',
        action: async ({ input }) => services.shipping.createShipment(input),
      },
      ...last,
    ],
  });
}

/**
 * Starts the order's saga (idempotent: the order id is the saga id) and waits for its outcome.
 *
 * @example
 * ```ts
 * const { status } = await processOrder(engine, order); // 'completed' | 'compensated' | …
 * ```
 */
export async function processOrder(engine: SagaEngine, order: Order, timeoutMs = 30_000): Promise<SagaInstance> {
  await engine.start('OrderSaga', order.orderId, order);
  return engine.waitForTerminal(order.orderId, { timeoutMs });
}

/** Steps that keep the Order aggregate in step with the saga; commands are idempotent per saga step. */
function orderAggregateSteps(store: EventStore): [Array<SagaStepDefinition<Order>>, Array<SagaStepDefinition<Order>>] {
  const place: SagaStepDefinition<Order> = {
    name: 'placeOrder',
    action: async ({ input, idempotencyKey }) => {
      const amount = input.payment.amount;
      const command = { type: 'PlaceOrder' as const, orderId: input.orderId, items: input.items, amount, ...(input.address === undefined ? {} : { address: input.address }) };
      await handleCommand(store, orderStream(input.orderId), command, orderDecider, { commandId: idempotencyKey, correlationId: input.orderId });
    },
    compensate: async ({ input, idempotencyKey }) => {
      const command = { type: 'RejectOrder' as const, orderId: input.orderId, reason: 'saga compensated' };
      await handleCommand(store, orderStream(input.orderId), command, orderDecider, { commandId: idempotencyKey, correlationId: input.orderId });
    },
  };
  const confirm: SagaStepDefinition<Order> = {
    name: 'confirmOrder',
    action: async ({ input, idempotencyKey }) => {
      await handleCommand(store, orderStream(input.orderId), { type: 'ConfirmOrder', orderId: input.orderId }, orderDecider, { commandId: idempotencyKey, correlationId: input.orderId });
    },
  };
  return [[place], [confirm]];
}
