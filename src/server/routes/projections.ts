import { z } from 'zod';
import { type ProjectionStatus, projectionStatus, RebuildWatch, requestRebuild, retryProjection, skipProjection } from '../../cqrs/index.js';
import { requireAdmin } from '../auth.js';
import type { ServerContext, TesseraApp } from '../context.js';

const nameParams = z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be 1–100 letters, digits, _ . -') });
const statusSchema = z.object({
  name: z.string(), kind: z.enum(['async', 'inline']), version: z.number(), position: z.string(),
  state: z.enum(['running', 'catching_up', 'failed', 'rebuilding']), lagEvents: z.string().nullable(), lagMs: z.number().nullable(),
  failed: z.object({ eventId: z.string(), position: z.string(), error: z.string(), attempts: z.number(), track: z.string() }).nullable(),
  rebuild: z.object({ version: z.number(), position: z.string(), startedAt: z.number().nullable() }).nullable(),
  lease: z.object({ owner: z.string(), expiresAt: z.number(), held: z.boolean() }).nullable(),
});

/** A projection's status as JSON (positions as decimal strings). */
export function statusView(s: ProjectionStatus): z.infer<typeof statusSchema> {
  return {
    ...s,
    position: s.position.toString(),
    lagEvents: s.lagEvents === null ? null : s.lagEvents.toString(),
    failed: s.failed === null ? null : { ...s.failed, position: s.failed.position.toString() },
    rebuild: s.rebuild === null ? null : { ...s.rebuild, position: s.rebuild.position.toString() },
    lease: s.lease === null ? null : { owner: s.lease.owner, expiresAt: s.lease.expiresAt, held: s.lease.held },
  };
}

/** Projection status, and the admin actions rebuild (with live progress over `/api/live`), retry and skip. */
export function projectionRoutes(app: TesseraApp, ctx: ServerContext): void {
  const admin = { preHandler: requireAdmin(ctx.adminToken) };
  const security = [{ bearer: [] }];
  const accepted = z.object({ name: z.string(), action: z.string() });

  app.get('/api/projections', {
    schema: { summary: 'Position, lag and state of every projection', response: { 200: z.object({ projections: z.array(statusSchema) }) } },
  }, async () => ({ projections: (await projectionStatus(ctx.db, ctx.store)).map(statusView) }));

  app.post('/api/projections/:name/rebuild', {
    ...admin,
    schema: { summary: 'Rebuild a projection into shadow tables and swap it in; progress arrives as `rebuild` live events', security, params: nameParams, response: { 202: accepted } },
  }, async (req, reply) => {
    const { name } = req.params;
    await requestRebuild(ctx.db, name);
    req.log.info({ projection: name }, 'rebuild requested');
    const watch = new RebuildWatch(ctx.db, ctx.store, name, { intervalMs: 200 });
    watch.on('progress', (p) => ctx.hub.send('rebuild', { ...p, state: 'running' }));
    watch.on('failed', (f) => ctx.hub.send('rebuild', { ...f, state: 'failed' }));
    watch.done.then(
      (d) => {
        ctx.hub.send('rebuild', { name, percent: 100, state: 'done', version: d.version, position: d.position });
        req.log.info({ projection: name }, 'rebuild swapped in');
      },
      (e: unknown) => req.log.warn({ err: e, projection: name }, 'rebuild watch ended'),
    );
    return reply.code(202).send({ name, action: 'rebuild' });
  });

  app.post('/api/projections/:name/retry', {
    ...admin,
    schema: { summary: 'Retry the event a failed projection is parked on', security, params: nameParams, response: { 202: accepted } },
  }, async (req, reply) => {
    await retryProjection(ctx.db, req.params.name);
    return reply.code(202).send({ name: req.params.name, action: 'retry' });
  });

  app.post('/api/projections/:name/skip', {
    ...admin,
    schema: { summary: 'Skip the event a failed projection is parked on', security, params: nameParams, response: { 200: z.object({ name: z.string(), eventId: z.string(), position: z.string() }) } },
  }, async (req) => {
    const skipped = await skipProjection(ctx.db, req.params.name);
    return { name: req.params.name, eventId: skipped.eventId, position: skipped.position.toString() };
  });
}
