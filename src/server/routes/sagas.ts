import { z } from 'zod';
import { NotFoundError, TesseraError } from '../../errors.js';
import { SAGA_ID_MAX_BYTES, type SagaEngine, type SagaStatus } from '../../saga/index.js';
import { requireAdmin } from '../auth.js';
import type { ServerContext, TesseraApp } from '../context.js';
import { sagaView } from '../json.js';
import { recentSagas, sagaCounts } from '../saga-overview.js';

const STATUSES = ['running', 'waiting', 'compensating', 'cancelling', 'completed', 'compensated', 'cancelled', 'compensation_failed'] as const satisfies readonly SagaStatus[];
const idParams = z.object({ id: z.string().min(1).max(SAGA_ID_MAX_BYTES) });
const summary = z.object({ id: z.string(), name: z.string(), status: z.string(), error: z.string().nullable(), createdAt: z.string(), updatedAt: z.string() });
const step = z.object({ name: z.string(), phase: z.enum(['do', 'undo']), state: z.string(), attempts: z.number(), error: z.string().optional() });
const attempt = z.object({ step: z.string(), phase: z.enum(['do', 'undo']), attempt: z.number(), startedAt: z.number(), durationMs: z.number().nullable(), error: z.string().nullable() });

/** Saga list (newest first, by status), saga detail with its step timeline, and the admin actions retry and cancel. */
export function sagaRoutes(app: TesseraApp, ctx: ServerContext): void {
  const engine = (): SagaEngine => {
    if (ctx.sagas === undefined) throw new TesseraError('SAGAS_DISABLED', 'This service runs no saga engine', { hint: 'Pass sagas to createServer.' });
    return ctx.sagas;
  };
  const admin = { preHandler: requireAdmin(ctx.adminToken) };
  const security = [{ bearer: [] }];

  app.get('/api/sagas', {
    schema: {
      summary: 'Newest sagas first, optionally of one status, with counts by status',
      querystring: z.object({ status: z.enum(STATUSES).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }),
      response: { 200: z.object({ sagas: z.array(summary), counts: z.record(z.string(), z.number()) }) },
    },
  }, async (req) => {
    const { status, limit } = req.query;
    return { sagas: await recentSagas(ctx.db, { limit, ...(status === undefined ? {} : { status }) }), counts: await sagaCounts(ctx.db) };
  });

  app.get('/api/sagas/:id', {
    schema: {
      summary: 'One saga: status, input, outputs, step log and the timed attempts of its steps',
      params: idParams,
      response: {
        200: z.object({
          id: z.string(), name: z.string(), version: z.number(), status: z.string(), input: z.unknown(), outputs: z.record(z.string(), z.unknown()),
          steps: z.array(step), error: z.string().nullable(), createdAt: z.string(), updatedAt: z.string(), timeline: z.array(attempt),
        }),
      },
    },
  }, async (req) => {
    const saga = await engine().get(req.params.id);
    if (saga === null) throw new NotFoundError('saga', req.params.id);
    return { ...sagaView(saga), timeline: await ctx.timeline.load(saga.id) };
  });

  const action = (path: string, summaryText: string, run: (e: SagaEngine, id: string) => Promise<void>) =>
    app.post(`/api/sagas/:id/${path}`, {
      ...admin,
      schema: { summary: summaryText, security, params: idParams, response: { 202: z.object({ id: z.string(), action: z.string() }) } },
    }, async (req, reply) => {
      await run(engine(), req.params.id);
      req.log.info({ sagaId: req.params.id, action: path }, 'saga admin action');
      return reply.code(202).send({ id: req.params.id, action: path });
    });
  action('retry-compensation', 'Re-drive the compensation of a compensation_failed saga', (e, id) => e.retryCompensation(id));
  action('cancel', 'Cancel a running or waiting saga (it compensates what it did)', (e, id) => e.cancel(id));
}
