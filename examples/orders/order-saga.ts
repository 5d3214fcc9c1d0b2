import { defineSaga, type SagaDefinition, type SagaEngine, type SagaInstance } from '../../src/index.js';
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
 */
export function orderSaga(services: OrderServices): SagaDefinition<Order> {
  return defineSaga<Order>({
    name: 'OrderSaga',
    version: 1,
    deadlineMs: 60_000,
    compensationRetry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 1_000 },
    steps: [
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
