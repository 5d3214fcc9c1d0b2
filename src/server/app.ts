import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { type Projector, projectionStatus } from '../cqrs/index.js';
import { type EventStore, storeDatabase } from '../eventstore/index.js';
import type { SagaEngine } from '../saga/index.js';
import type { SqlDriver } from '../storage/index.js';
import { requireAdmin } from './auth.js';
import type { ServerContext, TesseraApp } from './context.js';
import { errorHandler } from './http-errors.js';
import { LiveHub } from './hub.js';
import { LiveFeed } from './live.js';
import { createMetrics, type TesseraMetrics } from './metrics.js';
import { dashboardRoutes, type DashboardPanel } from './routes/dashboard.js';
import { groupRoutes, type GroupsSource } from './routes/groups.js';
import { appendRoute, logRoutes } from './routes/log.js';
import { projectionRoutes, statusView } from './routes/projections.js';
import { replicationRoutes, type ReplicationSource } from './routes/replication.js';
import { sagaRoutes } from './routes/sagas.js';
import { shardRoutes, type ShardsSource } from './routes/shards.js';
import { systemRoutes } from './routes/system.js';
import { sagaCounts } from './saga-overview.js';
import { StepTimeline } from './timeline.js';

/**
 * Options of {@link createServer}.
 * @example
 * ```ts
 * const options: ServerOptions = { store, projector, sagas: engine, adminToken: process.env.TESSERA_ADMIN_TOKEN, bodyLimit: 16_384 };
 * ```
 */
export interface ServerOptions {
  store: EventStore;
  /** Read models, checkpoints and saga tables (default: the store's own database). */
  db?: SqlDriver;
  /** The projector running this service's projections (its status feeds the dashboard). */
  projector?: Projector;
  sagas?: SagaEngine;
  /** Enables admin routes (rebuild, retry, skip, cancel) for `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** A pino logger (default: pino at `info`); `false` logs nothing. */
  logger?: FastifyBaseLogger | false;
  metrics?: TesseraMetrics;
  timeline?: StepTimeline;
  /** Largest accepted request body in bytes (default 64 KiB); bigger ones get 413. */
  bodyLimit?: number;
  /** The application's own routes, registered with the same zod type provider and error handling. */
  routes?(app: TesseraApp, ctx: ServerContext): void;
  /** HTTP status for the application's own error codes (e.g. `{ ORDER_STATE: 409 }`). */
  statusByCode?: Record<string, number>;
  /** Dashboard panels of the application, shown before the core ones. */
  panels?: DashboardPanel[];
  /** Title of the API document and the dashboard. */
  title?: string;
  /** Consumer groups over the store's log: `GET /api/groups` and the groups panel. */
  groups?: GroupsSource;
  /** A log-shipping follower of the store: `GET /api/replication`, the admin `verify` action and the replication panel. */
  replication?: ReplicationSource;
  /** A sharded event store: `GET /api/shards`, `GET /api/shards/route` and the shards panel. */
  shards?: ShardsSource;
}

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the Tessera HTTP service on Fastify 5: zod-validated routes with an OpenAPI document at
 * `/openapi.json`, `/health`, Prometheus `/metrics`, the global log and streams, projections and sagas (admin
 * actions behind a bearer token), live server-sent events and the dashboard at `/dashboard/`. Every request
 * carries a correlation id (the `x-correlation-id` header, or a new UUID) into its log lines and its reply.
 * Not listening yet: call {@link listenService}, or `app.inject()` in tests. Closing the app stops the live feed.
 *
 * @example
 * ```ts
 * const app = await createServer({ store, projector, sagas: engine, adminToken: process.env.TESSERA_ADMIN_TOKEN });
 * const url = await listenService(app, { port: 3000 });
 * ```
 */
export async function createServer(o: ServerOptions): Promise<TesseraApp> {
  const bodyLimit = o.bodyLimit ?? 65_536;
  const app = Fastify({
    ...(o.logger === undefined ? { logger: { level: process.env.TESSERA_LOG_LEVEL ?? 'info' } } : o.logger === false ? { logger: false } : { loggerInstance: o.logger }),
    bodyLimit,
    requestIdHeader: false,
    // Every log line of a request names its correlation id; one line per request is written below, not Fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlationId' }),
    genReqId: (req) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler(o.statusByCode ?? {}, bodyLimit));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `No route ${req.method} ${req.url}`, hint: 'GET /openapi.json lists every route.', correlationId: req.id }));
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: o.title ?? 'Tessera service', version: '0.1.0', description: 'Event store, projections and sagas over HTTP.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'TESSERA_ADMIN_TOKEN' } } },
    },
    transform: jsonSchemaTransform,
  });

  const metrics = o.metrics ?? createMetrics();
  const db = o.db ?? storeDatabase(o.store);
  const feed = await LiveFeed.start(o.store, metrics);
  const stats = async () => ({
    eventsPerSec: feed.eventsPerSecond(),
    head: feed.head,
    projections: (await projectionStatus(db, o.store)).map(statusView),
    sagaCounts: await sagaCounts(db).catch(() => ({})),
  });
  const hub = new LiveHub(feed, stats, { onError: (e) => app.log.warn({ err: e }, 'live stats failed') });
  metrics.bind({ projections: () => projectionStatus(db, o.store), sagaCounts: () => sagaCounts(db).catch(() => ({})) });
  const ctx: ServerContext = {
    store: o.store, db, projector: o.projector, sagas: o.sagas, metrics, timeline: o.timeline ?? new StepTimeline(), feed, hub, adminToken: o.adminToken,
  };

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-correlation-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    // Reads and load-generator traffic at debug: at info the log shows what changed state, and every failure.
    const quiet = reply.statusCode < 400 && (req.method === 'GET' || req.headers['x-simulated'] !== undefined);
    req.log[quiet ? 'debug' : 'info']({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    metrics.httpSeconds.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  // Live streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook('preClose', async () => hub.close());
  app.addHook('onClose', async () => feed.stop());

  systemRoutes(app, ctx);
  logRoutes(app, ctx);
  appendRoute(app, ctx, requireAdmin(o.adminToken));
  projectionRoutes(app, ctx);
  sagaRoutes(app, ctx);
  if (o.groups) groupRoutes(app, ctx, o.groups);
  if (o.replication) replicationRoutes(app, ctx, o.replication);
  if (o.shards) shardRoutes(app, ctx, o.shards);
  o.routes?.(app, ctx);
  const scaleOut = { groups: o.groups, replication: o.replication, shards: o.shards };
  dashboardRoutes(app, o.panels ?? [], Object.entries(scaleOut).flatMap(([name, on]) => (on ? [name] : [])));
  return app;
}
