import {
  type EventStore, type NewEvent, NonRetryableError, runMigrations, type SqlDriver, type SqlExecutor, storeTransaction,
} from '../../src/index.js';

/** One line of an order. */
export interface OrderItem {
  sku: string;
  qty: number;
}

/** What the order saga gets as input. */
export interface Order {
  orderId: string;
  items: OrderItem[];
  payment: { card: string; amount: number };
  address?: string;
}

/** Simulated faults: each call fails with this probability (0–1). */
export interface FailureRates {
  /** A charge is declined for good (the saga compensates at once). */
  paymentDeclineRate?: number;
  /** A shipment call times out (retryable: the step is retried, and compensates when retries run out). */
  shippingTimeoutRate?: number;
}

/** Options of {@link openOrderServices}. */
export interface OrderServicesOptions {
  /**
   * When given, every effect also appends its event (`StockAdded`, `StockReserved`, `PaymentCharged`, …) in the
   * same transaction as its SQL, so projections and the event bus see exactly the effects that committed.
   */
  store?: EventStore;
  failures?: FailureRates;
  random?: () => number;
}

/** Appends events in the effect's transaction. */
export type Emit = (streamId: string, events: NewEvent[]) => Promise<unknown>;

/** Throws (for good) when the charge is to be declined: the test card `declined`, or the simulated decline rate. */
function decideCharge(p: Order['payment'], random: () => number, f: Required<FailureRates>): void {
  if (p.card === 'declined') throw new NonRetryableError('card declined');
  if (random() < f.paymentDeclineRate) throw new NonRetryableError('card declined (simulated failure rate)');
}

/** The address to ship to; throws for a missing address (for good) or a simulated timeout (retryable). */
function decideShipment(order: Order, random: () => number, f: Required<FailureRates>): string {
  if (!order.address) throw new NonRetryableError('no shipping address');
  if (random() < f.shippingTimeoutRate) throw new Error('shipping service timed out (simulated failure rate)');
  return order.address;
}

/**
 * Each service's effect as SQL plus events inside a caller's transaction, idempotent per order: the orchestrated
 * services wrap each in a transaction of their own, the choreographed participants run them in their reaction's.
 */
export const effects = {
  async reserve(sql: SqlExecutor, emit: Emit, orderId: string, items: OrderItem[]): Promise<void> {
    const done = await sql.query('SELECT 1 AS x FROM orders_reservations WHERE order_id = ?', [orderId]);
    if (done.length > 0) return;
    for (const item of items) {
      const r = await sql.run('UPDATE orders_stock SET available = available - ? WHERE sku = ? AND available >= ?', [item.qty, item.sku, item.qty]);
      if (r.changes === 0) throw new NonRetryableError(`out of stock: ${item.sku}`);
      await sql.run('INSERT INTO orders_reservations (order_id, sku, qty) VALUES (?, ?, ?)', [orderId, item.sku, item.qty]);
      await emit(`inventory-${item.sku}`, [{ type: 'StockReserved', data: { orderId, sku: item.sku, qty: item.qty } }]);
    }
  },
  async release(sql: SqlExecutor, emit: Emit, orderId: string): Promise<void> {
    const rows = await sql.query<{ sku: string; qty: unknown }>('SELECT sku, qty FROM orders_reservations WHERE order_id = ? AND released = 0', [orderId]);
    for (const r of rows) {
      await sql.run('UPDATE orders_stock SET available = available + ? WHERE sku = ?', [Number(r.qty), r.sku]);
      await emit(`inventory-${r.sku}`, [{ type: 'StockReleased', data: { orderId, sku: r.sku, qty: Number(r.qty) } }]);
    }
    await sql.run('UPDATE orders_reservations SET released = 1 WHERE order_id = ?', [orderId]);
  },
  async charge(sql: SqlExecutor, emit: Emit, orderId: string, p: Order['payment']): Promise<void> {
    const r = await sql.run('INSERT INTO orders_payments (order_id, amount) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING', [orderId, p.amount]);
    if (r.changes === 1) await emit(`payment-${orderId}`, [{ type: 'PaymentCharged', data: { orderId, amount: p.amount } }]);
  },
  async refund(sql: SqlExecutor, emit: Emit, orderId: string): Promise<void> {
    const r = await sql.run('UPDATE orders_payments SET refunded = 1 WHERE order_id = ? AND refunded = 0', [orderId]);
    if (r.changes === 1) await emit(`payment-${orderId}`, [{ type: 'PaymentRefunded', data: { orderId } }]);
  },
  async ship(sql: SqlExecutor, emit: Emit, orderId: string, address: string): Promise<void> {
    const r = await sql.run('INSERT INTO orders_shipments (order_id, address) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING', [orderId, address]);
    if (r.changes === 1) await emit(`shipment-${orderId}`, [{ type: 'ShipmentCreated', data: { orderId, address } }]);
  },
};

/**
 * The three services of the seed's OrderSaga (inventory, payment, shipping), each owning its tables in the event
 * store's own database so the example runs with zero servers. Every call is idempotent per order id, and every
 * undo is a no-op when its action never took effect — what a saga step and its compensation need.
 *
 * @example
 * ```ts
 * const services = await openOrderServices(storeDatabase(store), { store, failures: { paymentDeclineRate: 0.1 } });
 * await services.inventory.restock('apple', 10);
 * ```
 */
export async function openOrderServices(db: SqlDriver, options: OrderServicesOptions = {}) {
  await runMigrations(db, 'orders_example_migrations', [
    {
      version: 1,
      name: 'order services',
      sql: `
CREATE TABLE orders_stock (sku TEXT PRIMARY KEY, available INTEGER NOT NULL);
CREATE TABLE orders_reservations (order_id TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (order_id, sku));
CREATE TABLE orders_payments (order_id TEXT PRIMARY KEY, amount INTEGER NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
CREATE TABLE orders_shipments (order_id TEXT PRIMARY KEY, address TEXT NOT NULL);`,
    },
  ]);
  const random = options.random ?? Math.random;
  const failures: Required<FailureRates> = { paymentDeclineRate: 0, shippingTimeoutRate: 0, ...options.failures };
  const store = options.store;
  // The effect's SQL and its events commit together, or neither does.
  const write = (fn: (sql: SqlExecutor, emit: Emit) => Promise<void>): Promise<void> =>
    store === undefined
      ? db.transaction((tx) => fn(tx, async () => undefined))
      : storeTransaction(store, (tx) => fn(tx.sql, (s, e) => tx.appendToStream(s, e)));

  const inventory = {
    async restock(sku: string, qty: number): Promise<void> {
      await write(async (sql, emit) => {
        await sql.run('INSERT INTO orders_stock (sku, available) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET available = orders_stock.available + excluded.available', [sku, qty]);
        await emit(`inventory-${sku}`, [{ type: 'StockAdded', data: { sku, qty } }]);
      });
    },
    async available(sku: string): Promise<number> {
      const rows = await db.query<{ available: unknown }>('SELECT available FROM orders_stock WHERE sku = ?', [sku]);
      return Number(rows[0]?.available ?? 0);
    },
    /** Reserves every item or none; a second call for the same order changes nothing. */
    reserve: (orderId: string, items: OrderItem[]): Promise<void> => write((sql, emit) => effects.reserve(sql, emit, orderId, items)),
    /** Puts reserved stock back once; a no-op if nothing was reserved. */
    release: (orderId: string): Promise<void> => write((sql, emit) => effects.release(sql, emit, orderId)),
  };

  const payment = {
    charge: (orderId: string, p: Order['payment']): Promise<void> => {
      decideCharge(p, random, failures);
      return write((sql, emit) => effects.charge(sql, emit, orderId, p));
    },
    refund: (orderId: string): Promise<void> => write((sql, emit) => effects.refund(sql, emit, orderId)),
    async find(orderId: string): Promise<{ amount: number; refunded: boolean } | null> {
      const rows = await db.query<{ amount: unknown; refunded: unknown }>('SELECT amount, refunded FROM orders_payments WHERE order_id = ?', [orderId]);
      return rows[0] === undefined ? null : { amount: Number(rows[0].amount), refunded: Number(rows[0].refunded) === 1 };
    },
  };

  const shipping = {
    createShipment: (order: Order): Promise<void> => {
      const address = decideShipment(order, random, failures);
      return write((sql, emit) => effects.ship(sql, emit, order.orderId, address));
    },
    async count(orderId: string): Promise<number> {
      const rows = await db.query<{ n: unknown }>('SELECT count(*) AS n FROM orders_shipments WHERE order_id = ?', [orderId]);
      return Number(rows[0]?.n ?? 0);
    },
  };

  return { inventory, payment, shipping, effects, decideCharge: (p: Order['payment']) => decideCharge(p, random, failures), decideShipment: (o: Order) => decideShipment(o, random, failures) };
}

/** The services {@link openOrderServices} returns. */
export type OrderServices = Awaited<ReturnType<typeof openOrderServices>>;
