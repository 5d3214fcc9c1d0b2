import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, orderBody, useOrderService } from './harness.js';

describe('orders service API (inject)', () => {
  const service = useOrderService();
  const inject = async (o: InjectOptions) => (await service()).app.inject(o);
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('places an order whose saga completes; the order, its saga, the read models and the log show it', async () => {
    const placed = await inject({ method: 'POST', url: '/api/orders', payload: orderBody('ok-1'), headers: { 'x-correlation-id': 'corr-ok-1' } });
    expect(placed.statusCode).toBe(202);
    expect(placed.headers['x-correlation-id']).toBe('corr-ok-1');
    expect(placed.json()).toEqual({ orderId: 'ok-1', sagaId: 'ok-1', status: 'running' });
    const svc = await service();
    expect((await svc.engine.waitForTerminal('ok-1', { timeoutMs: 30_000 })).status).toBe('completed');

    const order = (await inject({ url: '/api/orders/ok-1' })).json();
    expect(order.order).toMatchObject({ status: 'confirmed', amount: 30, version: '2' });
    const saga = (await inject({ url: '/api/sagas/ok-1' })).json();
    expect(saga.steps.map((s: { name: string; phase: string }) => `${s.phase}:${s.name}`)).toEqual([
      'do:placeOrder', 'do:reserveInventory', 'do:chargePayment', 'do:createShipment', 'do:confirmOrder',
    ]);
    expect(saga.timeline.map((a: { step: string }) => a.step)).toEqual(['placeOrder', 'reserveInventory', 'chargePayment', 'createShipment', 'confirmOrder']);
    expect(saga.timeline.every((a: { durationMs: number | null }) => typeof a.durationMs === 'number')).toBe(true);

    const listed = await eventually(async () => (await inject({ url: '/api/orders' })).json().orders.find((o: { orderId: string; status: string }) => o.orderId === 'ok-1' && o.status === 'confirmed'));
    expect(listed.items).toEqual([{ sku: 'apple', qty: 2 }]);
    const apple = await eventually(async () => (await inject({ url: '/api/inventory' })).json().levels.find((l: { sku: string; held: number }) => l.sku === 'apple' && l.held >= 2));
    expect(apple.available + apple.held).toBe(5_000);
    const stream = (await inject({ url: '/api/streams/order-ok-1' })).json();
    expect(stream.events.map((e: { type: string }) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect(stream.events[0].metadata.correlationId).toBe('ok-1');
    const log = (await inject({ url: '/api/log?from=1&limit=1000&type=PaymentCharged' })).json();
    expect(log.events.some((e: { streamId: string }) => e.streamId === 'payment-ok-1')).toBe(true);
    const sagas = await eventually(async () => {
      const r = (await inject({ url: '/api/sagas?status=completed' })).json();
      return r.sagas.some((s: { id: string }) => s.id === 'ok-1') ? r : null;
    });
    expect(sagas.counts.completed).toBeGreaterThanOrEqual(1);
  });

  it('a declined card compensates: stock released, order rejected, undo steps in the timeline', async () => {
    expect((await inject({ method: 'POST', url: '/api/orders', payload: orderBody('declined-1', { payment: { card: 'declined', amount: 10 } }) })).statusCode).toBe(202);
    const svc = await service();
    const done = await svc.engine.waitForTerminal('declined-1', { timeoutMs: 30_000 });
    expect(done.status).toBe('compensated');
    const saga = (await inject({ url: '/api/sagas/declined-1' })).json();
    expect(saga.error).toContain('card declined');
    // Reverse order; the failed step itself may be undone first (its outcome may be unknown to the engine).
    const undone = saga.timeline.filter((a: { phase: string }) => a.phase === 'undo').map((a: { step: string }) => a.step);
    expect(undone.filter((s: string) => s !== 'chargePayment')).toEqual(['reserveInventory', 'placeOrder']);
    expect((await inject({ url: '/api/orders/declined-1' })).json().order.status).toBe('rejected');
    expect(await svc.services.payment.find('declined-1')).toBeNull();
  });

  it('generates an order id when none is given', async () => {
    const { orderId, ...body } = orderBody('unused');
    expect(orderId).toBe('unused');
    const r = await inject({ method: 'POST', url: '/api/orders', payload: body });
    expect(r.statusCode).toBe(202);
    expect(r.json().orderId).toMatch(/^gen-\d+$/);
  });

  it.each([
    ['no items', { items: [] }, 'body.items'],
    ['a negative quantity', { items: [{ sku: 'apple', qty: -1 }] }, 'body.items.0.qty'],
    ['a bad sku', { items: [{ sku: 'ap ple', qty: 1 }] }, 'body.items.0.sku'],
    ['a bad order id', { orderId: 'has space' }, 'body.orderId'],
    ['a missing payment', { payment: undefined }, 'body.payment'],
  ])('400 with code, hint and issues for %s, and nothing written', async (_name, change, path) => {
    const r = await inject({ method: 'POST', url: '/api/orders', payload: { ...orderBody('bad-1'), ...change } });
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.code).toBe('INVALID_REQUEST');
    expect(body.hint).toContain('openapi.json');
    expect(body.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect((await inject({ url: '/api/sagas/bad-1' })).statusCode).toBe(404);
    expect((await inject({ url: '/api/streams/order-bad-1' })).statusCode).toBe(404);
  });

  it('400 for malformed JSON, 415 for another content type, 413 over the body limit', async () => {
    const malformed = await inject({ method: 'POST', url: '/api/orders', payload: '{"items": [', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('INVALID_REQUEST');
    // fast-check found this one: a __proto__ key is refused by the JSON parser, with the same code.
    const poisoned = await inject({ method: 'POST', url: '/api/orders', payload: '{"payment":{"":{"__proto__":null}}}', headers: { 'content-type': 'application/json' } });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().code).toBe('INVALID_REQUEST');
    const text = await inject({ method: 'POST', url: '/api/orders', payload: '<order/>', headers: { 'content-type': 'application/xml' } });
    expect(text.statusCode).toBe(415);
    expect(text.json().hint).toContain('application/json');
    const big = await inject({ method: 'POST', url: '/api/orders', payload: orderBody('big-1', { address: 'x'.repeat(70_000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
    expect((await inject({ url: '/api/sagas/big-1' })).statusCode).toBe(404);
  });

  it('409 for an order id placed before; 409 for an append whose expected version does not hold, with nothing written', async () => {
    await inject({ method: 'POST', url: '/api/orders', payload: orderBody('dup-1') });
    const again = await inject({ method: 'POST', url: '/api/orders', payload: orderBody('dup-1') });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ORDER_STATE');

    const events = [{ type: 'NoteAdded', data: { n: 1 } }];
    const first = await inject({ method: 'POST', url: '/api/streams/notes-1', headers: admin, payload: { events, expectedVersion: 'no_stream' } });
    expect(first.statusCode).toBe(201);
    const conflict = await inject({ method: 'POST', url: '/api/streams/notes-1', headers: admin, payload: { events: [...events, ...events], expectedVersion: 'no_stream' } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('CONCURRENCY_CONFLICT');
    expect(conflict.json().hint).not.toBe('');
    expect((await inject({ url: '/api/streams/notes-1' })).json().events).toHaveLength(1);
    const metrics = (await inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^tessera_append_conflicts_total [1-9]/m);
  });

  it('404 with a hint for unknown orders, sagas, streams, projections and routes', async () => {
    for (const url of ['/api/orders/nope', '/api/sagas/nope', '/api/streams/nope', '/api/nothing']) {
      const r = await inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.json().hint, url).not.toBe('');
    }
    const r = await inject({ method: 'POST', url: '/api/projections/nope/retry', headers: admin });
    expect(r.statusCode).toBe(404);
    expect(r.json().code).toBe('UNKNOWN_PROJECTION');
  });

  it('admin actions need the bearer token; with it, rebuild runs to the swap and retry on a healthy projection is refused', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: ADMIN_TOKEN }]) {
      const r = await inject({ method: 'POST', url: '/api/projections/order_list/rebuild', headers });
      expect(r.statusCode).toBe(401);
      expect(r.json().code).toBe('ADMIN_TOKEN_REQUIRED');
    }
    expect((await inject({ method: 'POST', url: '/api/sagas/ok-1/cancel' })).statusCode).toBe(401);
    expect((await inject({ method: 'POST', url: '/api/streams/x-1', payload: { events: [{ type: 'X', data: {} }] } })).statusCode).toBe(401);

    const rebuild = await inject({ method: 'POST', url: '/api/projections/order_list/rebuild', headers: admin });
    expect(rebuild.statusCode).toBe(202);
    await eventually(async () => (await inject({ url: '/api/projections' })).json().projections.find((p: { name: string; state: string; rebuild: unknown }) => p.name === 'order_list' && p.state === 'running' && p.rebuild === null));
    const retry = await inject({ method: 'POST', url: '/api/projections/order_list/retry', headers: admin });
    expect(retry.statusCode).toBe(400);
    expect(retry.json().code).toBe('INVALID_ARGUMENT');
    const cancelDone = await inject({ method: 'POST', url: '/api/sagas/ok-1/cancel', headers: admin });
    expect(cancelDone.statusCode).toBe(409);
    expect(cancelDone.json().code).toBe('SAGA_INVALID_STATE');
  });

  it('serves /health, /metrics, /openapi.json and the dashboard', async () => {
    expect((await inject({ url: '/health' })).json()).toMatchObject({ status: 'ok' });
    const metrics = await inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    for (const name of ['tessera_events_appended_total', 'tessera_projection_lag_events', 'tessera_sagas', 'tessera_saga_step_duration_seconds', 'tessera_append_duration_seconds', 'tessera_http_request_duration_seconds']) {
      expect(metrics.body).toContain(name);
    }
    const doc = (await inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/orders', '/api/orders/{id}', '/api/sagas/{id}', '/api/projections/{name}/rebuild', '/health', '/metrics']));
    expect(doc.paths['/api/orders'].post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['items', 'payment']));
    const page = await inject({ url: '/dashboard/' });
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('/dashboard/app.js');
    expect((await inject({ url: '/dashboard/panels.json' })).json().panels).toEqual(['orders', 'rate', 'streams', 'projections', 'sagas']);
    expect((await inject({ url: '/dashboard/panels/orders.js' })).body).toContain('place-order');
    expect((await inject({ url: '/dashboard/../app.ts' })).statusCode).toBe(404);
  });
});

describe('choreographed orders over the service (POST /api/choreographed-orders)', () => {
  const service = useOrderService();

  it('ships through the services reacting over the bus; the same id again is a 409 conflict', async () => {
    const { app } = await service();
    const placed = await app.inject({ method: 'POST', url: '/api/choreographed-orders', payload: orderBody('ch-1') });
    expect(placed.statusCode).toBe(202);
    expect(placed.json()).toEqual({ orderId: 'ch-1', stream: 'corder-ch-1' });
    const types = await eventually(async () => {
      const events = (await app.inject({ url: '/api/streams/corder-ch-1' })).json().events as Array<{ type: string }>;
      return events.some((e) => e.type === 'OrderShipped') ? events.map((e) => e.type) : null;
    });
    expect(types).toEqual(['OrderRequested', 'InventoryReserved', 'PaymentAccepted', 'OrderShipped']);
    const again = await app.inject({ method: 'POST', url: '/api/choreographed-orders', payload: orderBody('ch-1') });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CONCURRENCY_CONFLICT');
  });
});
