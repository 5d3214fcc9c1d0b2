import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHOREOGRAPHY_OUTCOMES, choreographedOrderStream, startChoreographedOrders } from '../../examples/orders/choreography.js';
import { openOrderServices, type Order } from '../../examples/orders/services.js';
import { openEventBus, openSqliteEventStore, startOutboxRelay, storeDatabase } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from './harness.js';

const tmp = tempDir('tessera-choreo-');
afterAll(() => tmp.remove());

describe('the choreographed OrderSaga over the event bus', () => {
  it('ships a good order, cancels a declined one (stock released), refuses one out of stock, and compensates a failed shipment', async () => {
    const store = await openSqliteEventStore({ path: join(tmp.dir, 'choreo.db') });
    const bus = await openEventBus(undefined);
    const services = await openOrderServices(storeDatabase(store), { store });
    await services.inventory.restock('apple', 10);
    const relay = await startOutboxRelay({ store, bus, pollIntervalMs: 10 });
    const stop = await startChoreographedOrders({ store, bus, services });
    try {
      const order = (orderId: string, extra: Partial<Order> = {}): Order => ({ orderId, items: [{ sku: 'apple', qty: 2 }], payment: { card: '4242', amount: 20 }, address: '1 Main St', ...extra });
      const orders = [order('c-ok'), order('c-declined', { payment: { card: 'declined', amount: 20 } }), order('c-big', { items: [{ sku: 'apple', qty: 50 }] })];
      const { address: _none, ...noAddress } = order('c-noaddr');
      for (const o of [...orders, noAddress]) await store.appendToStream(choreographedOrderStream(o.orderId), [{ type: 'OrderRequested', data: { order: o } }]);

      const outcome = (id: string) => eventually(async () => {
        const events = await store.readStream(choreographedOrderStream(id));
        return events.map((e) => e.type).find((t) => (CHOREOGRAPHY_OUTCOMES as readonly string[]).includes(t)) === undefined ? null : events.map((e) => e.type);
      });
      expect(await outcome('c-ok')).toEqual(['OrderRequested', 'InventoryReserved', 'PaymentAccepted', 'OrderShipped']);
      expect(await outcome('c-declined')).toEqual(['OrderRequested', 'InventoryReserved', 'PaymentDeclined', 'OrderCancelled']);
      expect(await outcome('c-big')).toEqual(['OrderRequested', 'OrderRefused']);
      expect(await outcome('c-noaddr')).toEqual(['OrderRequested', 'InventoryReserved', 'PaymentAccepted', 'ShipmentFailed', 'PaymentReversed', 'OrderCancelled']);
      // Only the shipped order holds stock; the reversed one was charged and refunded; the declined one never charged.
      expect(await services.inventory.available('apple')).toBe(8);
      expect(await services.shipping.count('c-ok')).toBe(1);
      expect(await services.payment.find('c-noaddr')).toEqual({ amount: 20, refunded: true });
      expect(await services.payment.find('c-declined')).toBeNull();
    } finally {
      await stop();
      await relay.stop();
      await bus.close();
      await store.close();
    }
  });
});
