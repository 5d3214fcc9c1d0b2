import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type OrderService, startOrderService } from '../../examples/orders/service.js';
import { tempDir } from '../support/tmp.js';

export const ADMIN_TOKEN = 'test-admin-token-1234';

/** An orders service on a fresh SQLite file, closed (and its folder removed) after the file's tests. */
export function useOrderService(opts: { adminToken?: string | null; db?: string } = {}): () => Promise<OrderService> {
  const tmp = tempDir('tessera-server-');
  let svc: Promise<OrderService> | undefined;
  let n = 0;
  afterAll(async () => {
    await (await svc)?.close();
    tmp.remove();
  });
  return () => {
    svc ??= startOrderService({
      db: opts.db ?? join(tmp.dir, 'orders.db'),
      logger: false,
      pollIntervalMs: 20,
      newId: () => `gen-${++n}`,
      ...(opts.adminToken === null ? {} : { adminToken: opts.adminToken ?? ADMIN_TOKEN }),
    });
    return svc;
  };
}

/** An order body for the API. */
export function orderBody(orderId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { orderId, items: [{ sku: 'apple', qty: 2 }], payment: { card: '4242', amount: 30 }, address: '1 Main St', ...extra };
}

/** Polls `fn` until it returns a truthy value (bounded), for read models that catch up asynchronously. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
