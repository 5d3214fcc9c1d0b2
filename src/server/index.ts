/**
 * The HTTP service subpath: a Fastify 5 app over an event store, its projections and sagas, with zod-validated
 * routes, OpenAPI, health, Prometheus metrics, live server-sent events and a dashboard it serves itself.
 *
 * @example
 * ```ts
 * import { createServer, listenService } from 'tessera/server';
 * const app = await createServer({ store, projector, sagas: engine });
 * console.log(await listenService(app, { port: 3000 }));
 * ```
 * @module
 */
export { createServer, type ServerOptions } from './app.js';
export { assertSafeBind, isLoopback, requireAdmin } from './auth.js';
export type { ServerContext, TesseraApp } from './context.js';
export { errorHandler, type ErrorBody, STATUS_BY_CODE } from './http-errors.js';
export { logHead } from './head.js';
export { LiveHub } from './hub.js';
export { instrumentSaga, instrumentStore } from './instrument.js';
export { type EventView, eventView, type SagaView, sagaView } from './json.js';
export { listenService } from './listen.js';
export { LiveFeed } from './live.js';
export { createMetrics, type MetricSources, type TesseraMetrics } from './metrics.js';
export type { DashboardPanel } from './routes/dashboard.js';
export type { GroupsSource } from './routes/groups.js';
export type { ReplicationSource } from './routes/replication.js';
export type { ShardsSource } from './routes/shards.js';
export { recentSagas, sagaCounts, sagaOverview, type SagaSummary } from './saga-overview.js';
export { type StepAttempt, StepTimeline } from './timeline.js';
