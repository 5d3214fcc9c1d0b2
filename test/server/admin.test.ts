import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, orderBody, useOrderService } from './harness.js';

describe('admin actions on a projection parked on a failing event', () => {
  const service = useOrderService();
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('shows the failure, retries it (still failing), skips the event, and the projection resumes after it', async () => {
    const { app } = await service();
    // An OrderPlaced without an order id parks order_list.
    const bad = await app.inject({ method: 'POST', url: '/api/streams/order-broken', headers: admin, payload: { events: [{ type: 'OrderPlaced', data: { amount: 1 } }] } });
    expect(bad.statusCode).toBe(201);
    const badPosition = bad.json().lastGlobalPosition as string;
    const status = async () => (await app.inject({ url: '/api/projections' })).json().projections.find((p: { name: string }) => p.name === 'order_list');
    const failed = await eventually(async () => ((await status()).state === 'failed' ? status() : null));
    expect(failed.failed).toMatchObject({ position: badPosition, track: 'live' });
    expect(failed.failed.error).toContain('has no orderId');
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/^tessera_projection_failed\{projection="order_list"\} 1$/m);

    expect((await app.inject({ method: 'POST', url: '/api/projections/order_list/retry' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/projections/order_list/retry', headers: admin })).statusCode).toBe(202);
    await eventually(async () => ((await status()).state === 'failed' ? true : null));

    const skipped = await app.inject({ method: 'POST', url: '/api/projections/order_list/skip', headers: admin });
    expect(skipped.statusCode).toBe(200);
    expect(skipped.json().position).toBe(badPosition);
    expect((await app.inject({ method: 'POST', url: '/api/projections/order_list/skip', headers: admin })).json().code).toBe('INVALID_ARGUMENT');

    expect((await app.inject({ method: 'POST', url: '/api/orders', payload: orderBody('after-skip') })).statusCode).toBe(202);
    const listed = await eventually(async () => (await app.inject({ url: '/api/orders' })).json().orders.find((o: { orderId: string; status: string }) => o.orderId === 'after-skip' && o.status === 'confirmed'));
    expect(listed).toBeTruthy();
    expect((await status()).state).toBe('running');
  });

  it('cancels a saga that is waiting out a retry, and retries a failed compensation only when there is one', async () => {
    const svc = await service();
    const { app } = svc;
    expect((await app.inject({ method: 'POST', url: '/api/sagas/none/cancel', headers: admin })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/api/orders', payload: orderBody('to-cancel') })).statusCode).toBe(202);
    const cancel = await app.inject({ method: 'POST', url: '/api/sagas/to-cancel/cancel', headers: admin });
    // The saga may finish before the cancel lands: then the engine refuses with 409.
    expect([202, 409]).toContain(cancel.statusCode);
    const done = await svc.engine.waitForTerminal('to-cancel', { timeoutMs: 30_000 });
    expect(cancel.statusCode === 202 ? ['cancelled', 'completed'] : ['completed']).toContain(done.status);
    const retry = await app.inject({ method: 'POST', url: '/api/sagas/to-cancel/retry-compensation', headers: admin });
    expect(retry.statusCode).toBe(409);
    expect(retry.json().code).toBe('SAGA_INVALID_STATE');
  });
});
