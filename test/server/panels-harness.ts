import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type OrderService, startOrderService } from '../../examples/orders/service.js';
import { tempDir } from '../support/tmp.js';
import { ADMIN_TOKEN } from './harness.js';

/**
 * The orders service with its scale-out side (consumer groups, log-shipping follower, sharded copy) in a fresh
 * temp folder, closed (and the folder removed) after the file's tests.
 */
export function useScaleOutService(): () => Promise<OrderService> {
  const tmp = tempDir('tessera-panels-');
  let svc: Promise<OrderService> | undefined;
  let n = 0;
  afterAll(async () => {
    await (await svc)?.close();
    tmp.remove();
  });
  return () => (svc ??= startOrderService({
    db: join(tmp.dir, 'orders.db'), logger: false, pollIntervalMs: 20, newId: () => `gen-${++n}`, adminToken: ADMIN_TOKEN, scaleOut: { dir: tmp.dir },
  }));
}
