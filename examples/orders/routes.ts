import { z } from 'zod';
import { NotFoundError } from '../../src/errors.js';
import type { SagaEngine } from '../../src/index.js';
import { type ServerContext, type TesseraApp } from '../../src/server/index.js';
import { choreographedOrderStream } from './choreography.js';
import { orderDecider, OrderStateError, orderStream } from './order.js';
import { readInventoryLevels, readOrderList } from './projections.js';

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The order request as the API accepts it (zod: validated before anything is written). */
export const placeOrderBody = z.object({
  orderId: z.string().regex(ID, 'must be 1–64 letters, digits, _ . : -').optional(),
  items: z.array(z.object({
    sku: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, _ -'),
    qty: z.number().int().min(1).max(1000),
  })).min(1).max(20),
  payment: z.object({ card: z.string().min(1).max(32), amount: z.number().int().min(0).max(1_000_000_000) }),
  address: z.string().min(1).max(200).optional(),
});

/**
 * The orders API: place an order (starts its OrderSaga; the order id is the saga id, so placing it twice is a
 * 409), read one order (its aggregate and saga), the order list and inventory levels (read models).
 *
 * @example
 * ```ts
 * const app = await createServer({ store, sagas: engine, routes: (app, ctx) => orderRoutes(app, ctx, engine) });
 * ```
 */
export function orderRoutes(app: TesseraApp, ctx: ServerContext, engine: SagaEngine, newId: () => string): void {
  app.post('/api/orders', {
    schema: {
      summary: 'Place an order: starts its OrderSaga (reserve stock, charge, ship; compensates on failure)',
      body: placeOrderBody,
      response: { 202: z.object({ orderId: z.string(), sagaId: z.string(), status: z.string() }) },
    },
  }, async (req, reply) => {
    const { orderId = newId(), ...rest } = req.body;
    const { created } = await engine.start('OrderSaga', orderId, { orderId, ...rest });
    if (!created) throw new OrderStateError(orderId, 'placed', 'PlaceOrder');
    req.log[req.headers['x-simulated'] === undefined ? 'info' : 'debug']({ orderId, sagaId: orderId }, 'order placed');
    return reply.code(202).send({ orderId, sagaId: orderId, status: 'running' });
  });

  app.get('/api/orders', {
    schema: {
      summary: 'Newest orders first (the order_list read model)',
      querystring: z.object({ status: z.enum(['placed', 'confirmed', 'rejected']).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }),
    },
  }, async (req) => ({ orders: await readOrderList(ctx.db, { limit: req.query.limit, ...(req.query.status === undefined ? {} : { status: req.query.status }) }) }));

  app.get('/api/orders/:id', {
    schema: { summary: 'One order: its aggregate state and its saga', params: z.object({ id: z.string().regex(ID) }) },
  }, async (req) => {
    const { id } = req.params;
    const saga = await engine.get(id);
    if (saga === null) throw new NotFoundError('order', id);
    const { state, version } = await ctx.store.aggregateStream(orderStream(id), orderDecider);
    return { orderId: id, order: { ...state, version: version.toString() }, saga: { status: saga.status, error: saga.error ?? null, steps: saga.steps } };
  });

  app.get('/api/inventory', { schema: { summary: 'Stock per SKU (the inventory_levels read model)' } }, async () => ({ levels: await readInventoryLevels(ctx.db) }));

}

/**
 * `POST /api/choreographed-orders`: the same order through the choreographed flow (no orchestrator; the services
 * react to each other's events over the event bus). Follow it in `GET /api/streams/corder-<id>`.
 *
 * @example
 * ```ts
 * createServer({ store, routes: (app, ctx) => choreographyRoute(app, ctx, () => randomUUID()) });
 * ```
 */
export function choreographyRoute(app: TesseraApp, ctx: ServerContext, newId: () => string): void {
  app.post('/api/choreographed-orders', {
    schema: {
      summary: 'Place an order through the choreographed flow (services reacting to events over the bus)',
      body: placeOrderBody,
      response: { 202: z.object({ orderId: z.string(), stream: z.string() }) },
    },
  }, async (req, reply) => {
    const { orderId = newId(), ...rest } = req.body;
    const stream = choreographedOrderStream(orderId);
    // no_stream: a second request for the same order id is a 409 conflict and writes nothing.
    await ctx.store.appendToStream(stream, [{ type: 'OrderRequested', data: { order: { orderId, ...rest } } }], { expectedVersion: 'no_stream', correlationId: req.id });
    return reply.code(202).send({ orderId, stream });
  });
}
