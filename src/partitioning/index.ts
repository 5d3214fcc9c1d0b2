/**
 * The partitioning subpath: consumer groups over the partitioned global log, PostgreSQL table partitions
 * and SQLite segment files with retention and archiving.
 *
 * @example
 * ```ts
 * import { openConsumerGroup } from 'tessera/partitioning';
 * const member = await openConsumerGroup({ store, group: 'mailer', partitions: 8, handler: async (e) => send(e) });
 * ```
 * @module
 */
export {
  type ArchivedPartition, type ArchiveSection, type ArchiveTarget, openArchiveWriter, readArchive, type ArchiveWriter, type RowPages,
} from './archive.js';
export { assignPartitions, partitionsOf } from './assignment.js';
export { ConsumerGroup, type ConsumerGroupOptions, openConsumerGroup } from './consumer-group.js';
export type { ConsumerContext, ConsumerHandler } from './member.js';
export { addIntervals, intervalStart, intervalSuffix, parseDuration, type TimeInterval } from './intervals.js';
export { MAX_PARTITIONS, partitionOf, requirePartitionCount } from './partition-of.js';
export type { PartitionInfo } from './pg-catalog.js';
export { PgPartitionManager, type PgPartitionManagerOptions } from './pg-partitions.js';
export { repartitionConsumerGroup } from './repartition.js';
export { type SegmentInfo, SqliteSegments, type SqliteSegmentsOptions } from './segments.js';
export type { RetentionPolicy, RetentionProgress, RetiredPartition } from './retention.js';
export {
  consumerGroupStatus, type ConsumerGroupStatus, type GroupStatusOptions, listConsumerGroups, type MemberStatus, type PartitionStatus,
} from './status.js';
