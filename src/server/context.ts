import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventStore, Projector, SagaEngine, SqlDriver } from '../index.js';
import type { LiveHub } from './hub.js';
import type { LiveFeed } from './live.js';
import type { TesseraMetrics } from './metrics.js';
import type { StepTimeline } from './timeline.js';

/**
 * The Fastify instance the service builds: zod schemas type every route.
 * @example
 * ```ts
 * const routes = (app: TesseraApp) => app.get('/api/ping', { schema: { querystring: z.object({ n: z.coerce.number() }) } }, async (req) => ({ n: req.query.n }));
 * ```
 */
export type TesseraApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/**
 * What every route of the service works with (the application's `routes` get it too).
 * @example
 * ```ts
 * createServer({ store, routes: (app, ctx) => app.get('/api/head', async () => ({ head: ctx.feed.head.toString() })) });
 * ```
 */
export interface ServerContext {
  readonly store: EventStore;
  readonly db: SqlDriver;
  readonly projector: Projector | undefined;
  readonly sagas: SagaEngine | undefined;
  readonly metrics: TesseraMetrics;
  readonly timeline: StepTimeline;
  readonly feed: LiveFeed;
  readonly hub: LiveHub;
  readonly adminToken: string | undefined;
}
