import assert from 'node:assert/strict';
import { z } from 'zod';
import { createCommandBus, createQueryBus, type Decider, handleCommand, isTesseraError, openSqliteEventStore, projection, startProjector, storeDatabase } from 'tessera';

type Cart = { items: number; checkedOut: boolean };
type CartCommand = { type: 'AddItem'; sku: string; price: number } | { type: 'Checkout' };
const cartDecider: Decider<Cart, CartCommand> = {
  initialState: () => ({ items: 0, checkedOut: false }),
  decide: (c, s) => {
    if (s.checkedOut) throw new Error('the cart is checked out');
    return c.type === 'AddItem' ? { type: 'ItemAdded', data: { sku: c.sku, price: c.price } } : { type: 'CheckedOut', data: {} };
  },
  evolve: (s, e) => (e.type === 'ItemAdded' ? { ...s, items: s.items + 1 } : { ...s, checkedOut: true }),
};

const cartTotals = projection({
  name: 'cart_totals', version: 1, tables: ['cart_totals'], handles: ['ItemAdded'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.cart_totals} (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`),
  apply: async (e, db, t) => {
    await db.run(
      `INSERT INTO ${t.cart_totals} (cart_id, total) VALUES (?, ?)
       ON CONFLICT (cart_id) DO UPDATE SET total = ${t.cart_totals}.total + excluded.total`,
      [e.streamId, (e.data as { price: number }).price],
    );
  },
});

const store = await openSqliteEventStore();
const projector = await startProjector({ store, projections: [cartTotals] }); // read model in the store's database
const db = storeDatabase(store);

const commands = createCommandBus().register('AddItem', {
  schema: z.object({ cartId: z.string().min(1), sku: z.string(), price: z.number().int().positive(), requestId: z.string() }),
  handle: (p) => handleCommand(store, p.cartId, { type: 'AddItem', sku: p.sku, price: p.price }, cartDecider, { commandId: p.requestId }),
});
const queries = createQueryBus().register('CartTotal', {
  schema: z.object({ cartId: z.string() }),
  projections: [projector.ref('cart_totals')],
  handle: async (p) => (await db.query<{ total: number }>('SELECT total FROM cart_totals WHERE cart_id = ?', [p.cartId]))[0]?.total ?? 0,
});

const r = await commands.send('AddItem', { cartId: 'cart-1', sku: 'MUG', price: 12, requestId: 'req-1' });
assert.deepEqual(r.state, { items: 1, checkedOut: false });
assert.deepEqual(r.events.map((e) => e.id), ['req-1:0']); // event ids derive from the command id
const again = await commands.send('AddItem', { cartId: 'cart-1', sku: 'MUG', price: 12, requestId: 'req-1' }); // a retried request
assert.equal(again.nextExpectedVersion, 1n); // appended nothing

// Read-your-writes: waits until cart_totals has applied the command's position (ConsistencyTimeoutError after timeoutMs).
assert.equal(await queries.send('CartTotal', { cartId: 'cart-1' }, { consistency: 'read-your-writes', after: r.lastGlobalPosition }), 12);

await assert.rejects(
  commands.send('AddItem', { cartId: 'cart-1', sku: 'MUG', price: -1, requestId: 'req-2' }),
  (e: unknown) => isTesseraError(e, 'COMMAND_VALIDATION_FAILED'),
);
const [status] = await projector.status();
assert.equal(status?.name, 'cart_totals');
assert.equal(status?.state, 'running');
await projector.stop();
await store.close();
console.log('cqrs: decider, command bus, projection and read-your-writes query checked');
