import assert from 'node:assert/strict';
import { causedBy, InProcessEventBus, openInbox, openSqliteEventStore, startOutboxRelay, storeDatabase } from 'tessera';

const orders = await openSqliteEventStore(); // the ordering service: its event store is its outbox
const billing = await openSqliteEventStore(); // the billing service owns its own database
const shipping = await openSqliteEventStore(); // and so does shipping
const bus = new InProcessEventBus();
const relay = await startOutboxRelay({ store: orders, bus, pollIntervalMs: 10 });

// Billing applies each OrderPlaced exactly once: the effect and the inbox row commit together.
const billingDb = storeDatabase(billing);
await billingDb.exec('CREATE TABLE invoices (order_id TEXT PRIMARY KEY, total INTEGER NOT NULL)');
const inbox = await openInbox(billingDb, { consumer: 'billing' });
const billingSubscription = await bus.subscribe({
  consumer: 'billing',
  category: 'order',
  handler: inbox.handler(async (m, tx) => {
    await tx.run('INSERT INTO invoices (order_id, total) VALUES (?, ?)', [m.event.streamId, (m.event.data as { total: number }).total]);
  }),
});
// Shipping continues the conversation: its event carries the correlation id and is caused by OrderPlaced.
// The event id derived from the incoming one makes a redelivered message store nothing twice.
const shippingSubscription = await bus.subscribe({
  consumer: 'shipping',
  category: 'order',
  handler: async (m) => {
    await shipping.appendToStream(`shipment-${m.event.streamId}`, [{ id: `ship:${m.event.id}`, type: 'ShipmentRequested', data: {} }], causedBy(m));
  },
});

await orders.appendToStream('order-7', [{ type: 'OrderPlaced', data: { total: 30 } }], { correlationId: 'checkout-123' });
while (!(await shipping.streamExists('shipment-order-7'))) await new Promise((resolve) => setTimeout(resolve, 10));
while ((await billingDb.query('SELECT 1 FROM invoices')).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

const [placed] = await orders.readStream('order-7');
const [shipment] = await shipping.readStream('shipment-order-7');
assert.deepEqual(shipment?.metadata, { correlationId: 'checkout-123', causationId: placed?.id });

// A redelivery (the bus is at-least-once) finds the inbox row and runs nothing.
assert.equal(await inbox.apply(placed!, async () => assert.fail('the effect must not run twice')), 'duplicate');
assert.deepEqual(await billingDb.query('SELECT order_id, total FROM invoices'), [{ order_id: 'order-7', total: 30 }]);
assert.equal(await relay.checkpoint(), 1n); // the relay's stored position: everything published

await Promise.all([billingSubscription.stop(), shippingSubscription.stop()]);
await relay.stop();
await bus.close();
await Promise.all([orders.close(), billing.close(), shipping.close()]);
console.log('messaging: outbox relay, inbox and causation checked');
