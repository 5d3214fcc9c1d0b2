import { z } from 'zod';
import { consumerGroupStatus, type ConsumerGroupStatus, listConsumerGroups } from '../../partitioning/index.js';
import type { ServerContext, TesseraApp } from '../context.js';

/**
 * What the consumer groups panel shows.
 * @example
 * ```ts
 * createServer({ store, groups: { names: ['notifications'] } });
 * ```
 */
export interface GroupsSource {
  /** Groups to show, in this order (default: every group in the store's database). */
  names?: string[];
  /** Most events read per group to count lag (default 20,000; beyond it lag is a lower bound). */
  scanLimit?: number;
}

const partitionSchema = z.object({ partition: z.number(), owner: z.string().nullable(), checkpoint: z.string(), lag: z.number(), lagExact: z.boolean() });
const groupSchema = z.object({
  group: z.string(),
  partitions: z.number(),
  head: z.string(),
  totalLag: z.number(),
  members: z.array(z.object({ memberId: z.string(), live: z.boolean(), joinedAt: z.number(), partitions: z.array(z.number()) })),
  partitionStatus: z.array(partitionSchema),
});

/** A group's status as JSON (positions as decimal strings, times as ms since epoch). */
export function groupView(s: ConsumerGroupStatus): z.infer<typeof groupSchema> {
  return {
    group: s.group,
    partitions: s.partitions,
    head: s.head.toString(),
    totalLag: s.totalLag,
    members: s.members.map((m) => ({ memberId: m.memberId, live: m.live, joinedAt: m.joinedAt.getTime(), partitions: m.partitions })),
    partitionStatus: s.partitionStatus.map((p) => ({ partition: p.partition, owner: p.owner, checkpoint: p.checkpoint.toString(), lag: p.lag, lagExact: p.lagExact })),
  };
}

/** `GET /api/groups`: members, partitions per member, checkpoint and lag per partition of each consumer group. */
export function groupRoutes(app: TesseraApp, ctx: ServerContext, source: GroupsSource): void {
  const scanLimit = source.scanLimit ?? 20_000;
  app.get('/api/groups', {
    schema: { summary: 'Consumer groups: members, partitions per member, checkpoint and lag per partition', response: { 200: z.object({ groups: z.array(groupSchema) }) } },
  }, async () => {
    const names = source.names ?? (await listConsumerGroups(ctx.store)).map((g) => g.group);
    const groups = [];
    for (const name of names) groups.push(groupView(await consumerGroupStatus(ctx.store, name, { scanLimit })));
    return { groups };
  });
}
