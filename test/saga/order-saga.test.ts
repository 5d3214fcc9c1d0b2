import { describe, expect, it } from 'vitest';
import { orderSaga, processOrder } from '../../examples/orders/order-saga.js';
import { openOrderServices, type Order } from '../../examples/orders/services.js';
import { storeDatabase } from '../../src/index.js';
import { ADAPTERS, useSagaFixture } from './harness.js';

const order = (orderId: string, extra: Partial<Order> = {}): Order => ({
  orderId,
  items: [{ sku: 'apple', qty: 2 }, { sku: 'pear', qty: 1 }],
  payment: { card: '4242', amount: 30 },
  address: 'Main St 1',
  ...extra,
});

describe.each(ADAPTERS)('the OrderSaga example on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  async function setup() {
    const services = await openOrderServices(storeDatabase(fx().store));
    await services.inventory.restock('apple', 10);
    await services.inventory.restock('pear', 5);
    return services;
  }

  it('completes an order: stock reserved, card charged, shipment created', async () => {
    const services = await setup();
    const engine = await fx().engine({ sagas: [orderSaga(services)] });
    const result = await processOrder(engine, order('o-1'));
    expect(result.status).toBe('completed');
    expect(await services.inventory.available('apple')).toBe(8);
    expect(await services.payment.find('o-1')).toEqual({ amount: 30, refunded: false });
    expect(await services.shipping.count('o-1')).toBe(1);
    // Placing the same order again is idempotent: nothing is reserved or charged twice.
    expect((await processOrder(engine, order('o-1'))).status).toBe('completed');
    expect(await services.inventory.available('apple')).toBe(8);
  });

  it('a declined card releases the reserved stock and charges nothing', async () => {
    const services = await setup();
    const engine = await fx().engine({ sagas: [orderSaga(services)] });
    const result = await processOrder(engine, order('o-2', { payment: { card: 'declined', amount: 30 } }));
    expect(result.status).toBe('compensated');
    expect(result.error).toMatch(/card declined/);
    expect(await services.inventory.available('apple')).toBe(10);
    expect(await services.inventory.available('pear')).toBe(5);
    expect(await services.payment.find('o-2')).toBeNull();
  });

  it('a shipment that cannot be created refunds the payment, then releases the stock (reverse order)', async () => {
    const services = await setup();
    const calls: string[] = [];
    const traced = {
      ...services,
      inventory: { ...services.inventory, release: async (id: string) => (calls.push('release'), services.inventory.release(id)) },
      payment: { ...services.payment, refund: async (id: string) => (calls.push('refund'), services.payment.refund(id)) },
    };
    const engine = await fx().engine({ sagas: [orderSaga(traced)] });
    const { address: _omit, ...noAddress } = order('o-3');
    const result = await processOrder(engine, noAddress);
    expect(result.status).toBe('compensated');
    expect(calls).toEqual(['refund', 'release']);
    expect(await services.payment.find('o-3')).toEqual({ amount: 30, refunded: true });
    expect(await services.inventory.available('apple')).toBe(10);
  });

  it('retries a flaky payment gateway; a refund that keeps failing ends compensation_failed until re-driven', async () => {
    const services = await setup();
    let chargeCalls = 0;
    let refundUp = false;
    const flaky = {
      ...services,
      payment: {
        ...services.payment,
        charge: async (id: string, p: Order['payment']) => {
          if (++chargeCalls === 1) throw new Error('gateway timeout');
          return services.payment.charge(id, p);
        },
        refund: async (id: string) => {
          if (!refundUp) throw new Error('refunds offline');
          return services.payment.refund(id);
        },
      },
    };
    const engine = await fx().engine({ sagas: [orderSaga(flaky)] });
    const { address: _omit, ...noAddress } = order('o-4');
    const stuck = await processOrder(engine, noAddress);
    expect(chargeCalls).toBe(2);
    expect(stuck.status).toBe('compensation_failed');
    expect(await services.inventory.available('apple')).toBe(8); // release waits behind the failed refund
    refundUp = true;
    await engine.retryCompensation('o-4');
    const done = await engine.waitForTerminal('o-4', { timeoutMs: 30_000 });
    expect(done.status).toBe('compensated');
    expect(await services.payment.find('o-4')).toEqual({ amount: 30, refunded: true });
    expect(await services.inventory.available('apple')).toBe(10);
  });
});
