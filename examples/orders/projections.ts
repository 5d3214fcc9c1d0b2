import { projection, type SqlExecutor } from '../../src/index.js';

/**
 * The order list read model: one row per order with its status, fed by the order streams.
 *
 * @example
 * ```ts
 * const projector = await startProjector({ store, projections: [orderList, inventoryLevels] });
 * ```
 */
export const orderList = projection({
  name: 'order_list',
  version: 1,
  tables: ['order_list'],
  handles: ['OrderPlaced', 'OrderConfirmed', 'OrderRejected'],
  setup: (db, t) =>
    db.exec(`CREATE TABLE ${t.order_list} (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, amount BIGINT NOT NULL, items TEXT NOT NULL,
      reason TEXT, placed_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`),
  apply: async (e, db, t) => {
    const d = e.data as { orderId: string; items?: unknown; amount?: number; reason?: string };
    const at = e.recordedAt.getTime();
    // A malformed event parks the projection (visible, retryable, skippable) instead of writing a keyless row.
    if (typeof d.orderId !== 'string') throw new Error(`${e.type} ${e.id} has no orderId`);
    if (e.type === 'OrderPlaced') {
      await db.run(`INSERT INTO ${t.order_list} (order_id, status, amount, items, placed_at, updated_at) VALUES (?, 'placed', ?, ?, ?, ?)
        ON CONFLICT (order_id) DO NOTHING`, [d.orderId, d.amount ?? 0, JSON.stringify(d.items ?? []), at, at]);
    } else {
      const status = e.type === 'OrderConfirmed' ? 'confirmed' : 'rejected';
      await db.run(`UPDATE ${t.order_list} SET status = ?, reason = ?, updated_at = ? WHERE order_id = ?`, [status, d.reason ?? null, at, d.orderId]);
    }
  },
});

/**
 * Stock per SKU as the inventory service's events tell it: available, and held by orders.
 *
 * @example
 * ```ts
 * const levels = await readInventoryLevels(db);
 * ```
 */
export const inventoryLevels = projection({
  name: 'inventory_levels',
  version: 1,
  tables: ['inventory_levels'],
  handles: ['StockAdded', 'StockReserved', 'StockReleased'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.inventory_levels} (sku TEXT PRIMARY KEY, available BIGINT NOT NULL, held BIGINT NOT NULL)`),
  apply: async (e, db, t) => {
    const d = e.data as { sku: string; qty: number };
    const [available, held] = e.type === 'StockAdded' ? [d.qty, 0] : e.type === 'StockReserved' ? [-d.qty, d.qty] : [d.qty, -d.qty];
    await db.run(`INSERT INTO ${t.inventory_levels} (sku, available, held) VALUES (?, ?, ?)
      ON CONFLICT (sku) DO UPDATE SET available = ${t.inventory_levels}.available + excluded.available, held = ${t.inventory_levels}.held + excluded.held`,
    [d.sku, available, held]);
  },
});

/** One row of the order list. */
export interface OrderRow {
  orderId: string;
  status: string;
  amount: number;
  items: unknown;
  reason: string | null;
  placedAt: number;
  updatedAt: number;
}

/**
 * Reads the newest orders from the order list (optionally one status).
 *
 * @example
 * ```ts
 * const recent = await readOrderList(db, { limit: 20 });
 * ```
 */
export async function readOrderList(db: SqlExecutor, opts: { limit: number; status?: string }): Promise<OrderRow[]> {
  const where = opts.status === undefined ? '' : 'WHERE status = ?';
  const rows = await db.query<Record<string, unknown>>(
    `SELECT order_id, status, amount, items, reason, placed_at, updated_at FROM order_list ${where} ORDER BY placed_at DESC, order_id LIMIT ?`,
    opts.status === undefined ? [opts.limit] : [opts.status, opts.limit],
  );
  return rows.map((r) => ({
    orderId: String(r.order_id),
    status: String(r.status),
    amount: Number(r.amount),
    items: JSON.parse(String(r.items)) as unknown,
    reason: r.reason === null || r.reason === undefined ? null : String(r.reason),
    placedAt: Number(r.placed_at),
    updatedAt: Number(r.updated_at),
  }));
}

/**
 * Reads the inventory levels read model.
 *
 * @example
 * ```ts
 * for (const l of await readInventoryLevels(db)) console.log(l.sku, l.available);
 * ```
 */
export async function readInventoryLevels(db: SqlExecutor): Promise<Array<{ sku: string; available: number; held: number }>> {
  const rows = await db.query<Record<string, unknown>>('SELECT sku, available, held FROM inventory_levels ORDER BY sku');
  return rows.map((r) => ({ sku: String(r.sku), available: Number(r.available), held: Number(r.held) }));
}
