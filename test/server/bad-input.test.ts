import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeOrderBody } from '../../examples/orders/routes.js';
import { orderBody, useOrderService } from './harness.js';

describe('POST /api/orders with arbitrary bodies', () => {
  const service = useOrderService();

  it('answers 202 exactly when the body is valid; otherwise 400 with code and hint, and nothing is written', async () => {
    const svc = await service();
    let n = 0;
    const field = <T>(valid: T) => fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.anything() });
    const body = fc.record({
      items: fc.oneof(field([{ sku: 'apple', qty: 1 }]), fc.array(fc.record({ sku: field('pear'), qty: fc.oneof(fc.integer(), fc.double()) }), { maxLength: 3 })),
      payment: fc.oneof(field({ card: '4242', amount: 3 }), fc.record({ card: field('4242'), amount: fc.oneof(fc.integer(), fc.string()) })),
      address: field('1 Main St'),
      extra: fc.anything(),
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(body, async (b) => {
      const orderId = `prop-${++n}`;
      const payload = { ...(b as Record<string, unknown>), orderId };
      const r = await svc.app.inject({ method: 'POST', url: '/api/orders', payload });
      if (placeOrderBody.safeParse(payload).success) {
        expect(r.statusCode).toBe(202);
        return;
      }
      expect(r.statusCode).toBe(400);
      const err = r.json();
      expect(err.code).toBe('INVALID_REQUEST');
      expect(err.hint).not.toBe('');
      expect(err.correlationId).toBe(r.headers['x-correlation-id']);
      expect(await svc.engine.get(orderId)).toBeNull();
    }), { numRuns: 60 });
    expect((await svc.app.inject({ method: 'POST', url: '/api/orders', payload: orderBody('prop-valid') })).statusCode).toBe(202);
  });
});
