import { z } from 'zod';
import { type LogShippingFollower, type ReplicaSet, verifyReplica } from '../../replication/index.js';
import { requireAdmin } from '../auth.js';
import type { ServerContext, TesseraApp } from '../context.js';

/**
 * What the replication panel shows: a log-shipping follower copying this service's store.
 * @example
 * ```ts
 * const follower = await openLogShippingFollower({ source: store, target: { path: './data/replica.db' } });
 * follower.start();
 * createServer({ store, replication: { follower, label: './data/replica.db' } });
 * ```
 */
export interface ReplicationSource {
  follower: LogShippingFollower;
  /** Where the copy lives, as shown (e.g. its file path). */
  label: string;
  /** A PostgreSQL replica set of the service's database (its monitor's status and lag history are shown too). */
  replicaSet?: ReplicaSet;
}

/** Events counted past the follower's position at most; beyond it the lag is a lower bound. */
const LAG_SCAN = 1_000;
/** The copy rate is measured over the samples of this window. */
const RATE_WINDOW_MS = 10_000;

const followerSchema = z.object({
  label: z.string(), sourcePosition: z.string(), copied: z.string(), updatedAt: z.number(), head: z.string(),
  lagEvents: z.number(), lagExact: z.boolean(), lagMs: z.number(), copyRate: z.number().nullable(),
});
const replicaSchema = z.object({
  name: z.string(), healthy: z.boolean(), inRotation: z.boolean(), reason: z.string().nullable(), lagBytes: z.number(), lagMs: z.number(), syncState: z.string().nullable(),
});
const replicaSetSchema = z.object({
  primary: z.object({ name: z.string(), healthy: z.boolean(), lsn: z.string() }),
  replicas: z.array(replicaSchema),
  failovers: z.number(),
  /** Lag per replica over the monitor's recent probes, oldest first. */
  history: z.array(z.object({ at: z.number(), lagMs: z.record(z.string(), z.number()) })),
});
const divergenceSchema = z.object({ index: z.number(), kind: z.enum(['mismatch', 'missing', 'extra']), eventId: z.string(), streamId: z.string(), fields: z.array(z.string()) });
const verifySchema = z.object({
  identical: z.boolean(), untilSourcePosition: z.string(), sourceEvents: z.number(), replicaEvents: z.number(), streams: z.number(),
  sourceDigest: z.string(), replicaDigest: z.string(), divergenceCount: z.number(), divergences: z.array(divergenceSchema), ms: z.number(),
});

/** The replica set's last probe and its lag over time (at most the last 60 points), as JSON. */
function replicaSetView(rs: ReplicaSet): z.infer<typeof replicaSetSchema> {
  const s = rs.status();
  return {
    primary: { name: s.primary.name, healthy: s.primary.healthy, lsn: s.primary.lsn },
    replicas: s.replicas.map((r) => ({ name: r.name, healthy: r.healthy, inRotation: r.inRotation, reason: r.reason, lagBytes: r.lagBytes, lagMs: r.lagMs, syncState: r.syncState })),
    failovers: s.failovers,
    history: rs.lagHistory().slice(-60).map((p) => ({ at: p.at.getTime(), lagMs: Object.fromEntries(p.replicas.map((r) => [r.name, r.lagMs])) })),
  };
}

/**
 * `GET /api/replication` (the follower's position, lag in events and ms, copy rate) and the admin action
 * `POST /api/replication/verify` (verifyReplica up to the follower's checkpoint).
 */
export function replicationRoutes(app: TesseraApp, ctx: ServerContext, source: ReplicationSource): void {
  const samples: Array<{ at: number; copied: bigint }> = [];
  const rate = (at: number, copied: bigint): number | null => {
    samples.push({ at, copied });
    while (samples.length > 2 && samples[0]!.at < at - RATE_WINDOW_MS) samples.shift();
    const first = samples[0]!;
    return at - first.at < 500 ? null : Number(copied - first.copied) / ((at - first.at) / 1000);
  };

  app.get('/api/replication', {
    schema: { summary: 'Log-shipping follower: position, lag in events and ms, copy rate', response: { 200: z.object({ follower: followerSchema, replicaSet: replicaSetSchema.nullable() }) } },
  }, async () => {
    const cp = await source.follower.checkpoint();
    const behind = await ctx.store.readAll({ fromPosition: cp.sourcePosition + 1n, maxCount: LAG_SCAN });
    const now = Date.now();
    const head = behind.length > 0 ? behind[behind.length - 1]!.globalPosition : cp.sourcePosition;
    return {
      follower: {
        label: source.label, sourcePosition: cp.sourcePosition.toString(), copied: cp.copied.toString(), updatedAt: cp.updatedAt,
        head: (ctx.feed.head > head ? ctx.feed.head : head).toString(),
        lagEvents: behind.length, lagExact: behind.length < LAG_SCAN,
        lagMs: behind.length === 0 ? 0 : Math.max(0, now - behind[0]!.recordedAt.getTime()),
        copyRate: rate(now, cp.copied),
      },
      replicaSet: source.replicaSet === undefined ? null : replicaSetView(source.replicaSet),
    };
  });

  app.post('/api/replication/verify', {
    preHandler: requireAdmin(ctx.adminToken),
    schema: { summary: 'Compare the copy with the source up to the follower checkpoint (ids, streams, versions, hashes)', security: [{ bearer: [] }], response: { 200: verifySchema } },
  }, async (req) => {
    const started = Date.now();
    const until = (await source.follower.checkpoint()).sourcePosition;
    const r = await verifyReplica(ctx.store, source.follower.target, { untilSourcePosition: until, maxReported: 10 });
    req.log.info({ identical: r.identical, divergences: r.divergenceCount, events: r.sourceEvents }, 'replica verified');
    return {
      identical: r.identical, untilSourcePosition: until.toString(), sourceEvents: r.sourceEvents, replicaEvents: r.replicaEvents, streams: r.streams,
      sourceDigest: r.sourceDigest, replicaDigest: r.replicaDigest, divergenceCount: r.divergenceCount,
      divergences: r.divergences.map((d) => ({ index: d.index, kind: d.kind, eventId: d.eventId, streamId: d.streamId, fields: d.fields })),
      ms: Date.now() - started,
    };
  });
}
