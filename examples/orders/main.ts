// Runs the OrderSaga end to end on a SQLite file: `npx tsx examples/orders/main.ts [path]`.
import { openSagaEngine, openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { orderSaga, processOrder } from './order-saga.js';
import { openOrderServices } from './services.js';

const store = await openSqliteEventStore({ path: process.argv[2] ?? ':memory:' });
const services = await openOrderServices(storeDatabase(store));
await services.inventory.restock('apple', 10);
const engine = await openSagaEngine({ store, sagas: [orderSaga(services)] });
const orders = [
  { orderId: `ok-${Date.now()}`, items: [{ sku: 'apple', qty: 2 }], payment: { card: '4242', amount: 30 }, address: 'Main St 1' },
  { orderId: `declined-${Date.now()}`, items: [{ sku: 'apple', qty: 1 }], payment: { card: 'declined', amount: 15 }, address: 'Main St 2' },
  { orderId: `no-address-${Date.now()}`, items: [{ sku: 'apple', qty: 3 }], payment: { card: '4242', amount: 45 } },
];
for (const order of orders) {
  const result = await processOrder(engine, order);
  console.log(`${order.orderId}: ${result.status}${result.error ? ` (${result.error})` : ''}`);
}
console.log(`apples left: ${await services.inventory.available('apple')}`);
await engine.stop();
await store.close();
