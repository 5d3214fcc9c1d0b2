import { headPosition } from '../cqrs/head.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { checkpoints, ensureGroupSchema, listGroups, members, partitionLeases, requireGroup } from './group-tables.js';
import { partitionOf } from './partition-of.js';

/** One partition in {@link ConsumerGroupStatus}. */
export interface PartitionStatus {
  partition: number;
  /** The member holding its lease, or null when nobody holds it now. */
  owner: string | null;
  fence: bigint | null;
  /** Global position this partition has handled up to (inclusive). */
  checkpoint: bigint;
  /** Events of this partition after its checkpoint (a lower bound when `lagExact` is false). */
  lag: number;
  lagExact: boolean;
}

/** One member in {@link ConsumerGroupStatus}. */
export interface MemberStatus {
  memberId: string;
  joinedAt: Date;
  /** Heartbeat deadline; the member counts as gone after it. */
  expiresAt: Date;
  live: boolean;
  partitions: number[];
}

/** What {@link consumerGroupStatus} reports: the data of the dashboard's group panel and `tessera groups status`. */
export interface ConsumerGroupStatus {
  group: string;
  partitions: number;
  /** Global position of the last event in the log. */
  head: bigint;
  members: MemberStatus[];
  partitionStatus: PartitionStatus[];
  /** Sum of the partitions' lag. */
  totalLag: number;
}

/** Options of {@link consumerGroupStatus}. */
export interface GroupStatusOptions {
  /** Most events read to count lag (default 100 000); beyond it lag is a lower bound. */
  scanLimit?: number;
  clock?: Clock;
}

/**
 * Members, partitions per member, checkpoint and lag per partition of a group. Safe while members run:
 * it only reads (besides creating the empty group tables in a database that never had any). Lag is counted exactly by reading the log after the lowest checkpoint, up to `scanLimit`.
 *
 * @example
 * ```ts
 * const s = await consumerGroupStatus(store, 'mailer');
 * for (const p of s.partitionStatus) console.log(p.partition, p.owner, p.lag);
 * ```
 */
export async function consumerGroupStatus(store: EventStore, group: string, options?: GroupStatusOptions): Promise<ConsumerGroupStatus> {
  const name = requireBoundedString(group, 'group', 200);
  const o = requireOptionsObject(options, 'options') as GroupStatusOptions;
  const scanLimit = o.scanLimit === undefined ? 100_000 : requirePositiveInt(o.scanLimit, 'scanLimit');
  const clock = o.clock ?? systemClock;
  const db = storeDatabase(store);
  await ensureGroupSchema(db, clock);
  const partitions = await requireGroup(db, name);
  const now = clock.now();
  const leases = new Map((await partitionLeases(db, name)).filter((l) => l.expiresAt > now).map((l) => [l.partition, l]));
  const marks = await checkpoints(db, name);
  const lowest = [...marks.values()].reduce((a, b) => (b < a ? b : a), marks.get(0) ?? 0n);
  const lag = new Array<number>(partitions).fill(0);
  let scanned = 0;
  let head = lowest;
  for await (const e of store.streamAll({ fromPosition: lowest + 1n })) {
    const p = partitionOf(e.streamId, partitions);
    if (e.globalPosition > (marks.get(p) ?? 0n)) lag[p]!++;
    head = e.globalPosition;
    if (++scanned >= scanLimit) break;
  }
  const lagExact = scanned < scanLimit;
  if (!lagExact) head = await headPosition(store, head + 1n);
  const partitionStatus: PartitionStatus[] = Array.from({ length: partitions }, (_, p) => ({
    partition: p,
    owner: leases.get(p)?.owner ?? null,
    fence: leases.get(p)?.fence ?? null,
    checkpoint: marks.get(p) ?? 0n,
    lag: lag[p]!,
    lagExact,
  }));
  const memberRows = (await members(db, name)).filter((m) => m.expiresAt > now || partitionStatus.some((p) => p.owner === m.memberId));
  return {
    group: name,
    partitions,
    head,
    members: memberRows.map((m) => ({
      memberId: m.memberId,
      joinedAt: new Date(m.joinedAt),
      expiresAt: new Date(m.expiresAt),
      live: m.expiresAt > now,
      partitions: partitionStatus.filter((p) => p.owner === m.memberId).map((p) => p.partition),
    })),
    partitionStatus,
    totalLag: lag.reduce((a, b) => a + b, 0),
  };
}

/**
 * Every consumer group in the store's database, with its partition count and live member count.
 *
 * @example
 * ```ts
 * for (const g of await listConsumerGroups(store)) console.log(g.group, g.partitions, g.liveMembers);
 * ```
 */
export async function listConsumerGroups(store: EventStore, options?: { clock?: Clock }): Promise<Array<{ group: string; partitions: number; createdAt: Date; liveMembers: number }>> {
  const clock = (requireOptionsObject(options, 'options') as { clock?: Clock }).clock ?? systemClock;
  const db = storeDatabase(store);
  await ensureGroupSchema(db, clock);
  const now = clock.now();
  const out = [];
  for (const g of await listGroups(db)) {
    const live = (await members(db, g.group)).filter((m) => m.expiresAt > now).length;
    out.push({ group: g.group, partitions: g.partitions, createdAt: new Date(g.createdAt), liveMembers: live });
  }
  return out;
}
