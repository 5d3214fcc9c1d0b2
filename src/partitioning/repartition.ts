import { GroupNotDrainedError } from '../errors.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireBoundedString } from '../support/validate.js';
import { CHECKPOINTS_TABLE, GROUPS_TABLE, members, requireGroup } from './group-tables.js';
import { requirePartitionCount } from './partition-of.js';
import { consumerGroupStatus } from './status.js';

/**
 * Changes a group's partition count: the explicit, drain-first migration. Every member must have left and
 * every partition must have handled the whole log; then all new partitions start at the current head, so
 * no stream has events on both sides of the change and per-stream order holds. Otherwise
 * {@link GroupNotDrainedError} and nothing changes.
 *
 * @example
 * ```ts
 * await Promise.all(members.map((m) => m.stop()));            // after they caught up
 * await repartitionConsumerGroup(store, 'mailer', 16);
 * await openConsumerGroup({ store, group: 'mailer', partitions: 16, handler });
 * ```
 */
export async function repartitionConsumerGroup(store: EventStore, group: string, partitions: number, options: { clock?: Clock } = {}): Promise<{ from: number; to: number; position: bigint }> {
  const name = requireBoundedString(group, 'group', 200);
  const next = requirePartitionCount(partitions, 'partitions');
  const clock = options.clock ?? systemClock;
  const db = storeDatabase(store);
  const status = await consumerGroupStatus(store, name, { clock });
  if (!status.partitionStatus.every((p) => p.lagExact && p.lag === 0)) throw new GroupNotDrainedError(name, `${status.totalLag} events are not handled yet`);
  const position = status.partitionStatus.reduce((max, p) => (p.checkpoint > max ? p.checkpoint : max), status.head);
  await db.transaction(async (tx) => {
    const now = clock.now();
    const live = (await members(tx, name)).filter((m) => m.expiresAt > now);
    if (live.length > 0) throw new GroupNotDrainedError(name, `${live.length} members are still in it (${live.map((m) => m.memberId).join(', ')})`);
    await requireGroup(tx, name);
    await tx.run(`UPDATE ${GROUPS_TABLE} SET partitions = ? WHERE group_name = ?`, [next, name]);
    await tx.run(`DELETE FROM ${CHECKPOINTS_TABLE} WHERE group_name = ?`, [name]);
    for (let p = 0; p < next; p++) {
      await tx.run(`INSERT INTO ${CHECKPOINTS_TABLE} (group_name, part, position, updated_at) VALUES (?, ?, ?, ?)`, [name, p, position, now]);
    }
  });
  return { from: status.partitions, to: next, position };
}
