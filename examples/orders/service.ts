import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import {
  InvalidArgumentError, type EventBus, type EventStore, openEventBus, openPostgresEventStore, openSagaEngine, openSqliteEventStore, type Projector, type SagaEngine, startOutboxRelay, startProjector, storeDatabase,
} from '../../src/index.js';
import { createMetrics, createServer, instrumentSaga, instrumentStore, sagaOverview, StepTimeline, type TesseraApp } from '../../src/server/index.js';
import { startChoreographedOrders } from './choreography.js';
import { orderSaga } from './order-saga.js';
import { type ScaleOut, startScaleOut } from './scale-out.js';
import { inventoryLevels, orderList } from './projections.js';
import { choreographyRoute, orderRoutes } from './routes.js';
import { type FailureRates, openOrderServices, type OrderServices } from './services.js';

/** Options of {@link startOrderService}. */
export interface OrderServiceOptions {
  /**
   * `postgres://…` for PostgreSQL (`?schema=name` picks the schema, default `tessera`), otherwise a SQLite file
   * path (default `./data/orders.db`).
   */
  db?: string;
  /** `nats://…` publishes every event to NATS JetStream through the outbox relay (default: the in-process bus). */
  bus?: string;
  adminToken?: string;
  failures?: FailureRates;
  logger?: FastifyBaseLogger | false;
  /** Order ids for orders placed without one. */
  newId?: () => string;
  /** Projector poll interval (default 100 ms). */
  pollIntervalMs?: number;
  /**
   * Runs the scale-out demo (consumer groups, a log-shipping follower into `<dir>/replica.db`, a sharded
   * copy in `<dir>/shards/`) and shows its dashboard panels (see `scale-out.ts`). Off by default.
   */
  scaleOut?: { dir: string; /** Streaming replicas of the PostgreSQL `db` (`postgres://…`), shown in the replication panel. */ replicas?: string[] };
}

/** The running orders service (not listening yet: see `listenService`). */
export interface OrderService {
  app: TesseraApp;
  store: EventStore;
  engine: SagaEngine;
  projector: Projector;
  /** The bus the outbox relay publishes every committed event to (subscribe to react to orders). */
  bus: EventBus;
  services: OrderServices;
  /** The scale-out pieces, when `scaleOut` was given. */
  scaleOut: ScaleOut | null;
  /** Stops HTTP, the saga runner and the projector, then closes the store. */
  close(): Promise<void>;
}

/** Stock a fresh database starts with. */
export const STARTING_STOCK: Readonly<Record<string, number>> = { apple: 5_000, pear: 3_000, plum: 2_000, fig: 1_000 };

/**
 * Assembles the orders demo: the store (SQLite file or PostgreSQL), the three services, the OrderSaga (timed for the
 * dashboard's step timeline), the order list, inventory and saga overview projections, and the HTTP service with
 * the orders routes and dashboard panel.
 *
 * @example
 * ```ts
 * const svc = await startOrderService({ db: './data/orders.db', failures: { paymentDeclineRate: 0.1 } });
 * console.log(await listenService(svc.app, { port: 3000 }));
 * ```
 */
export async function startOrderService(o: OrderServiceOptions = {}): Promise<OrderService> {
  const target = o.db ?? './data/orders.db';
  const replicas = o.scaleOut?.replicas ?? [];
  if (replicas.length > 0 && !isPostgres(target)) {
    throw new InvalidArgumentError('scaleOut.replicas', 'needs a postgres:// db (streaming replicas of it)', 'Set TESSERA_DB=postgres://… with TESSERA_REPLICAS, or leave TESSERA_REPLICAS out.');
  }
  const raw = isPostgres(target) ? await openPostgres(target) : await openSqliteEventStore({ path: prepareFile(target) });
  const metrics = createMetrics();
  const store = instrumentStore(raw, metrics);
  try {
    const timeline = await StepTimeline.open(storeDatabase(raw));
    const services = await openOrderServices(storeDatabase(raw), { store, ...(o.failures === undefined ? {} : { failures: o.failures }) });
    if ((await services.inventory.available('apple')) === 0 && (await services.inventory.available('pear')) === 0) {
      for (const [sku, qty] of Object.entries(STARTING_STOCK)) await services.inventory.restock(sku, qty);
    }
    const engine = await openSagaEngine({ store, sagas: [instrumentSaga(orderSaga(services, { store }), { metrics, timeline })] });
    const projector = await startProjector({ store, projections: [orderList, inventoryLevels, sagaOverview], pollIntervalMs: o.pollIntervalMs ?? 100 });
    const bus = await openEventBus(o.bus, { streamName: 'TESSERA_ORDERS' });
    const relay = await startOutboxRelay({ store: raw, bus, name: 'orders-demo' });
    const stopChoreography = await startChoreographedOrders({ store, bus, services });
    const newId = o.newId ?? (() => `o-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`);
    // The app (and its logger) exists only after the scale-out pieces it shows: errors find it here.
    const logTo: { log?: TesseraApp['log'] } = {};
    const scaleOut = o.scaleOut === undefined ? null : await startScaleOut(raw, {
      ...(replicas.length > 0 ? { replicaSet: { ...pgTarget(target), replicas: replicas.map((r) => pgTarget(r).primary) } } : {}),
      dir: o.scaleOut.dir, ...(o.pollIntervalMs === undefined ? {} : { pollIntervalMs: o.pollIntervalMs }), onError: (what, e) => logTo.log?.error({ err: e }, `${what} stopped`),
    });
    const app = await createServer({
      ...scaleOut?.server,
      store, projector, sagas: engine, metrics, timeline,
      title: 'Tessera orders demo',
      ...(o.adminToken === undefined ? {} : { adminToken: o.adminToken }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
      statusByCode: { ORDER_STATE: 409 },
      routes: (a, ctx) => {
        orderRoutes(a, ctx, engine, newId);
        choreographyRoute(a, ctx, newId);
      },
      panels: [{ name: 'orders', file: new URL('./dashboard/orders.js', import.meta.url).pathname }],
    });
    logTo.log = app.log;
    const close = async (): Promise<void> => {
      await app.close();
      await scaleOut?.close();
      await engine.stop();
      await projector.stop();
      await timeline.close();
      await stopChoreography();
      await relay.stop();
      await bus.close();
      await raw.close();
    };
    return { app, store, engine, projector, bus, services, scaleOut, close };
  } catch (e) {
    await raw.close();
    throw e;
  }
}

const isPostgres = (target: string): boolean => /^postgres(ql)?:\/\//.test(target);

/** `postgres://…?schema=name` as a connection string and a schema. */
function pgTarget(url: string): { primary: string; schema?: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { primary: parsed.toString(), ...(schema === null ? {} : { schema }) };
}

function openPostgres(url: string): Promise<EventStore> {
  const { primary, schema } = pgTarget(url);
  return openPostgresEventStore({ connectionString: primary, ...(schema === undefined ? {} : { schema }) });
}

function prepareFile(path: string): string {
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  return full;
}
