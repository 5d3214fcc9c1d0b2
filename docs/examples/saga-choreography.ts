import assert from 'node:assert/strict';
import { InProcessEventBus, openSqliteEventStore, startOutboxRelay, startParticipant, storeDatabase } from 'tessera';

const bus = new InProcessEventBus(); // one process here; NATS JetStream across services
const orders = await openSqliteEventStore();
const payments = await openSqliteEventStore();
const relays = [await startOutboxRelay({ store: orders, bus, pollIntervalMs: 10 }), await startOutboxRelay({ store: payments, bus, pollIntervalMs: 10 })];
await storeDatabase(payments).exec('CREATE TABLE charges (order_id TEXT PRIMARY KEY, amount INTEGER NOT NULL)');

const paymentService = await startParticipant({
  store: payments, bus, name: 'payments',
  on: {
    OrderPlaced: async (e, { tx, emit }) => {
      const { orderId, amount } = e.data as { orderId: string; amount: number };
      if (amount > 100) return void (await emit(`payment-${orderId}`, [{ type: 'PaymentDeclined', data: { orderId } }]));
      await tx.sql.run('INSERT INTO charges (order_id, amount) VALUES (?, ?)', [orderId, amount]);
      await emit(`payment-${orderId}`, [{ type: 'PaymentCharged', data: { orderId } }]);
    },
  },
});
const orderService = await startParticipant({
  store: orders, bus, name: 'orders',
  on: {
    PaymentDeclined: async (e, { emit }) => { // the compensating reaction
      const { orderId } = e.data as { orderId: string };
      await emit(`order-${orderId}`, [{ type: 'OrderCancelled', data: { orderId } }]);
    },
  },
});

await orders.appendToStream('order-1', [{ type: 'OrderPlaced', data: { orderId: '1', amount: 30 } }]);
await orders.appendToStream('order-2', [{ type: 'OrderPlaced', data: { orderId: '2', amount: 500 } }]);
while ((await orders.readStream('order-2')).length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
while (!(await payments.streamExists('payment-1'))) await new Promise((resolve) => setTimeout(resolve, 10));

assert.deepEqual((await orders.readStream('order-2')).map((e) => e.type), ['OrderPlaced', 'OrderCancelled']);
assert.deepEqual((await orders.readStream('order-1')).map((e) => e.type), ['OrderPlaced']);
assert.deepEqual(await storeDatabase(payments).query('SELECT order_id, amount FROM charges'), [{ order_id: '1', amount: 30 }]);
await orderService.stop();
await paymentService.stop();
for (const r of relays) await r.stop();
await bus.close();
await Promise.all([orders.close(), payments.close()]);
console.log('sagas: choreography with a compensating reaction checked');
