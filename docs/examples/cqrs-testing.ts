import { type Decider, deciderSpec, projection, projectionSpec } from 'tessera';

type Cart = { items: number; closed: boolean };
type CartCommand = { type: 'AddItem'; sku: string } | { type: 'Checkout' };
const cart: Decider<Cart, CartCommand> = {
  initialState: () => ({ items: 0, closed: false }),
  decide: (c, s) => {
    if (s.closed) throw new Error('cart is closed');
    return c.type === 'AddItem' ? { type: 'ItemAdded', data: { sku: c.sku } } : { type: 'CheckedOut', data: {} };
  },
  evolve: (s, e) => (e.type === 'ItemAdded' ? { ...s, items: s.items + 1 } : { ...s, closed: true }),
};

// Each then… throws an AssertionError on a mismatch; use them inside any test runner.
const spec = deciderSpec(cart);
spec.given([{ type: 'ItemAdded', data: { sku: 'A' } }]).when({ type: 'Checkout' }).then([{ type: 'CheckedOut', data: {} }]);
spec.given([{ type: 'CheckedOut', data: {} }]).when({ type: 'Checkout' }).thenThrows();

const cartItems = projection({
  name: 'cart_items', version: 1, tables: ['cart_items'], handles: ['ItemAdded'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.cart_items} (cart_id TEXT NOT NULL, sku TEXT NOT NULL)`),
  apply: async (e, db, t) => void (await db.run(`INSERT INTO ${t.cart_items} (cart_id, sku) VALUES (?, ?)`, [e.streamId, (e.data as { sku: string }).sku])),
});
await projectionSpec(cartItems) // runs against a fresh in-memory SQLite database
  .given([{ type: 'ItemAdded', data: { sku: 'A' }, streamId: 'c1' }])
  .when([{ type: 'ItemAdded', data: { sku: 'B' }, streamId: 'c1' }])
  .thenRows((t) => `SELECT cart_id, sku FROM ${t.cart_items} ORDER BY sku`, [{ cart_id: 'c1', sku: 'A' }, { cart_id: 'c1', sku: 'B' }]);
console.log('cqrs: decider and projection specs passed');
