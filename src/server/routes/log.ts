import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { STREAM_ID_MAX_BYTES } from '../../eventstore/index.js';
import type { ServerContext, TesseraApp } from '../context.js';
import { eventView } from '../json.js';

const position = z.string().regex(/^\d{1,19}$/, 'must be a whole number (decimal digits)');
const eventSchema = z.object({
  id: z.string(), streamId: z.string(), streamVersion: z.string(), globalPosition: z.string(), type: z.string(),
  data: z.unknown(), metadata: z.record(z.string(), z.unknown()).nullable(), recordedAt: z.string(),
});
const page = z.object({ events: z.array(eventSchema), next: z.string().nullable() });

/** The global log (`/api/log`), one stream (`/api/streams/:streamId`) and the newest events (`/api/log/recent`). */
export function logRoutes(app: TesseraApp, ctx: ServerContext): void {
  app.get('/api/log', {
    schema: {
      summary: 'Read the global log forward from a position',
      querystring: z.object({
        from: position.default('1'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        type: z.string().min(1).max(200).optional(),
      }),
      response: { 200: page },
    },
  }, async (req) => {
    const { from, limit, type } = req.query;
    const events = await ctx.store.readAll({ fromPosition: BigInt(from), maxCount: limit, ...(type === undefined ? {} : { types: [type] }) });
    const last = events[events.length - 1];
    return { events: events.map(eventView), next: events.length === limit && last !== undefined ? (last.globalPosition + 1n).toString() : null };
  });

  app.get('/api/log/recent', {
    schema: { summary: 'The newest events (as the live feed keeps them)', response: { 200: z.object({ events: z.array(eventSchema), eventsPerSec: z.number() }) } },
  }, async () => ({ events: ctx.feed.recent().reverse(), eventsPerSec: ctx.feed.eventsPerSecond() }));

  app.get('/api/streams/:streamId', {
    schema: {
      summary: "Read one stream's events",
      params: z.object({ streamId: z.string().min(1).max(STREAM_ID_MAX_BYTES) }),
      querystring: z.object({
        from: position.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        direction: z.enum(['forward', 'backward']).default('forward'),
      }),
      response: { 200: page },
    },
  }, async (req) => {
    const { from, limit, direction } = req.query;
    const events = await ctx.store.readStream(req.params.streamId, { maxCount: limit, direction, ...(from === undefined ? {} : { fromVersion: BigInt(from) }) });
    if (events.length === 0 && !(await ctx.store.streamExists(req.params.streamId))) throw new NotFoundError('stream', req.params.streamId);
    const last = events[events.length - 1];
    const next = events.length === limit && last !== undefined ? (direction === 'forward' ? last.streamVersion + 1n : last.streamVersion - 1n) : null;
    return { events: events.map(eventView), next: next === null || next < 0n ? null : next.toString() };
  });
}

const expected = z.union([z.enum(['any', 'no_stream', 'stream_exists']), position]);
const newEvent = z.object({
  type: z.string().min(1).max(200),
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  id: z.string().min(1).max(128).optional(),
});

/** Admin append (`POST /api/streams/:streamId`): all events or none, 409 when `expectedVersion` does not hold. */
export function appendRoute(app: TesseraApp, ctx: ServerContext, preHandler: (req: FastifyRequest) => Promise<void>): void {
  app.post('/api/streams/:streamId', {
    preHandler,
    schema: {
      summary: 'Append events to a stream (admin): all or none, optimistic concurrency through expectedVersion',
      security: [{ bearer: [] }],
      params: z.object({ streamId: z.string().min(1).max(STREAM_ID_MAX_BYTES) }),
      body: z.object({ events: z.array(newEvent).min(1).max(100), expectedVersion: expected.default('any') }),
      response: { 201: z.object({ nextExpectedVersion: z.string(), lastGlobalPosition: z.string() }) },
    },
  }, async (req, reply) => {
    const { events, expectedVersion } = req.body;
    const version = /^\d/.test(expectedVersion) ? BigInt(expectedVersion) : (expectedVersion as 'any' | 'no_stream' | 'stream_exists');
    // exactOptionalPropertyTypes: drop keys zod left undefined.
    const batch = events.map(({ metadata, id, ...e }) => ({ ...e, ...(metadata === undefined ? {} : { metadata }), ...(id === undefined ? {} : { id }) }));
    const r = await ctx.store.appendToStream(req.params.streamId, batch, { expectedVersion: version, correlationId: req.id });
    return reply.code(201).send({ nextExpectedVersion: r.nextExpectedVersion.toString(), lastGlobalPosition: r.lastGlobalPosition.toString() });
  });
}
