import { afterAll, describe, expect, it } from 'vitest';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { eventually, orderBody, useOrderService } from './harness.js';

const schema = freshSchemaName('srv');
afterAll(() => dropSchemas([schema]));

describe('orders service on PostgreSQL (TESSERA_DB=postgres://…)', () => {
  const service = useOrderService({ db: `${TEST_PG_URL}?schema=${schema}` });

  it('runs the same saga, read models and API on PostgreSQL', async () => {
    const svc = await service();
    const inject = svc.app.inject.bind(svc.app);
    expect((await inject({ method: 'POST', url: '/api/orders', payload: orderBody('pg-ok') })).statusCode).toBe(202);
    expect((await inject({ method: 'POST', url: '/api/orders', payload: orderBody('pg-declined', { payment: { card: 'declined', amount: 1 } }) })).statusCode).toBe(202);
    expect((await svc.engine.waitForTerminal('pg-ok', { timeoutMs: 30_000 })).status).toBe('completed');
    expect((await svc.engine.waitForTerminal('pg-declined', { timeoutMs: 30_000 })).status).toBe('compensated');
    const orders = await eventually(async () => {
      const list = (await inject({ url: '/api/orders' })).json().orders as Array<{ orderId: string; status: string }>;
      return list.length === 2 && list.every((o) => o.status !== 'placed') ? list : null;
    });
    expect(Object.fromEntries(orders.map((o) => [o.orderId, o.status]))).toEqual({ 'pg-ok': 'confirmed', 'pg-declined': 'rejected' });
    const apple = await eventually(async () => (await inject({ url: '/api/inventory' })).json().levels.find((l: { sku: string; held: number }) => l.sku === 'apple' && l.held === 2));
    expect(apple.available).toBe(4_998);
    const sagas = await eventually(async () => {
      const r = (await inject({ url: '/api/sagas' })).json();
      return r.counts.completed === 1 && r.counts.compensated === 1 ? r : null;
    });
    expect(sagas.sagas.map((s: { id: string }) => s.id).sort()).toEqual(['pg-declined', 'pg-ok']);
    expect((await inject({ url: '/api/streams/order-pg-ok' })).json().events.map((e: { type: string }) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect((await inject({ method: 'POST', url: '/api/orders', payload: orderBody('pg-ok') })).statusCode).toBe(409);
  });
});
