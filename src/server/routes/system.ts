import { z } from 'zod';
import type { ServerContext, TesseraApp } from '../context.js';

const startedAt = Date.now();

/** `/health`, `/metrics` (Prometheus text), `/openapi.json` and the live stream `/api/live` (server-sent events). */
export function systemRoutes(app: TesseraApp, ctx: ServerContext): void {
  app.get('/health', {
    schema: {
      summary: 'Liveness and readiness: the store answers a read',
      response: { 200: z.object({ status: z.literal('ok'), head: z.string(), uptimeMs: z.number(), liveClients: z.number() }) },
    },
  }, async () => {
    await ctx.store.readAll({ maxCount: 1 });
    return { status: 'ok' as const, head: ctx.feed.head.toString(), uptimeMs: Date.now() - startedAt, liveClients: ctx.hub.clients };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/live', { schema: { summary: 'Live updates as server-sent events: events, stats, rebuild, saga' } }, async (req, reply) => {
    reply.hijack();
    ctx.hub.attach(reply.raw);
    req.log.debug('live stream attached');
  });
}
