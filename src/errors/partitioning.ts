/** Partitioning errors (consumer groups, table partitions, retention); import them from `errors.ts`. @module */
import { TesseraError } from './base.js';

/**
 * No consumer group with this name exists in the store's database.
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnknownConsumerGroupError) console.log(e.group); }
 * ```
 */
export class UnknownConsumerGroupError extends TesseraError {
  constructor(readonly group: string) {
    super('UNKNOWN_CONSUMER_GROUP', `Unknown consumer group "${group}"`, {
      hint: 'Check the name (tessera groups list); a group is created when its first member opens with openConsumerGroup.',
    });
  }
}

/**
 * A member opened a group with a partition count other than the one the group was created with. The count
 * is fixed so that no stream ever moves between partitions (that would break per-stream order).
 * @example
 * ```ts
 * catch (e) { if (e instanceof PartitionCountMismatchError) console.log(e.stored, e.requested); }
 * ```
 */
export class PartitionCountMismatchError extends TesseraError {
  constructor(readonly group: string, readonly stored: number, readonly requested: number) {
    super('PARTITION_COUNT_MISMATCH', `Consumer group "${group}" has ${stored} partitions, not ${requested}`, {
      hint: `Open it with partitions: ${stored}, or stop every member, let it drain and run repartitionConsumerGroup (see docs/partitioning.md).`,
    });
  }
}

/**
 * A repartition was asked for a group that still has live members or unprocessed events.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'GROUP_NOT_DRAINED')) console.log(e.hint); }
 * ```
 */
export class GroupNotDrainedError extends TesseraError {
  constructor(readonly group: string, reason: string) {
    super('GROUP_NOT_DRAINED', `Consumer group "${group}" cannot be repartitioned: ${reason}`, {
      hint: 'Let the members catch up to the end of the log, stop them all (stop() leaves the group), then repartition.',
      retryable: true,
    });
  }
}

/**
 * A consumer group's handler kept failing on an event after its retries; the member stopped.
 * @example
 * ```ts
 * group.done.catch((e) => { if (e instanceof ConsumerHandlerError) console.error(e.partition, e.eventId); });
 * ```
 */
export class ConsumerHandlerError extends TesseraError {
  constructor(readonly group: string, readonly partition: number, readonly eventId: string, cause: unknown) {
    super('CONSUMER_HANDLER_FAILED', `The handler of consumer group "${group}" failed on event ${eventId} (partition ${partition}): ${cause instanceof Error ? cause.message : String(cause)}`, {
      hint: 'Fix the handler (or the event), then start the member again: it resumes from the partition checkpoint.',
      cause,
    });
  }
}

/**
 * A table partition definition overlaps an existing partition (other bounds or shared list values).
 * @example
 * ```ts
 * catch (e) { if (e instanceof OverlappingPartitionError) console.log(e.existing); }
 * ```
 */
export class OverlappingPartitionError extends TesseraError {
  constructor(readonly table: string, readonly requested: string, readonly existing: string) {
    super('PARTITION_OVERLAP', `Partition ${requested} of "${table}" overlaps the existing partition ${existing}`, {
      hint: 'List the partitions (tessera partitions list) and choose bounds or values no other partition covers.',
    });
  }
}

/**
 * The table is not a partitioned table (or has another partitioning than the call needs).
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'NOT_PARTITIONED')) console.log(e.hint); }
 * ```
 */
export class NotPartitionedError extends TesseraError {
  constructor(readonly table: string, reason: string) {
    super('NOT_PARTITIONED', `Table "${table}" ${reason}`, {
      hint: 'Create it with createPartitionedTable (or PARTITION BY RANGE/LIST yourself) and check the schema.',
    });
  }
}

/**
 * A retention policy would remove the partition or segment holding the current time. Nothing was changed.
 * @example
 * ```ts
 * catch (e) { if (e instanceof RetentionRefusedError) console.log(e.partition); }
 * ```
 */
export class RetentionRefusedError extends TesseraError {
  constructor(readonly table: string, readonly partition: string) {
    super('RETENTION_WOULD_DROP_CURRENT', `Retention on "${table}" would remove ${partition}, which holds the current time`, {
      hint: 'Keep at least the current interval: raise keep / olderThanMs so the cut-off falls before the current partition.',
    });
  }
}

/**
 * The rows of a partition changed while it was being archived, so it was not removed (the archive section
 * stays, superseded by the next complete one).
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'ARCHIVE_MISMATCH')) await pm.applyRetention(table, policy); }
 * ```
 */
export class ArchiveMismatchError extends TesseraError {
  constructor(readonly partition: string, readonly archived: number, readonly found: number) {
    super('ARCHIVE_MISMATCH', `Partition ${partition} held ${found} rows when it was detached, but ${archived} were archived`, {
      hint: 'Rows were still being written to an expired partition. Stop those writes (or widen the retention), then apply the retention again.',
      retryable: true,
    });
  }
}

/**
 * A PostgreSQL event store was opened with a `partitioning` option that does not match its events table:
 * the table exists without partitioning (a store is never converted in place), it is partitioned by
 * another interval, or it is partitioned but not by Tessera. Nothing was changed.
 * @example
 * ```ts
 * catch (e) { if (e instanceof EventsPartitioningMismatchError) console.log(e.stored, e.requested); }
 * ```
 */
export class EventsPartitioningMismatchError extends TesseraError {
  constructor(readonly schema: string, readonly stored: string, readonly requested: string) {
    super('EVENTS_PARTITIONING_MISMATCH', `The events table of schema "${schema}" is ${stored}; the store was opened with ${requested}`, {
      hint: stored === 'not partitioned'
        ? 'An events table is partitioned only when the store is created: open it without partitioning, or open a new schema with partitioning and copy the events into it (readAll, then append them per stream with their ids).'
        : stored.startsWith('partitioned by')
          ? 'A partitioned store keeps the interval it was created with: pass that interval, or leave partitioning out to use the stored one.'
          : 'Tessera opens only events tables it partitioned itself (it records the interval in events_partitioning): use another schema.',
    });
  }
}
