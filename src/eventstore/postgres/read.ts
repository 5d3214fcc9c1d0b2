import type { PostgresDatabase } from '../../storage/postgres.js';
import type { SqlValue } from '../../storage/port.js';
import { sleep } from '../../support/clock.js';
import type { PartitionPage, PartitionPageRequest, StoredEvent } from '../backend.js';
import { pgTextArray } from './append.js';
import { partitionParams, type PgStatements } from './schema.js';

/**
 * # The gap-safe global log on PostgreSQL
 *
 * A sequence-numbered log is not safe to tail on PostgreSQL: transaction A takes position 10, B takes 11
 * and commits first; a reader that sees 11 and checkpoints there never sees 10 when A commits.
 *
 * Technique (the xid8 / snapshot-xmin one used by Marten, Emmett and others, adapted so a position alone
 * is a valid checkpoint):
 * - each event's position is derived from its transaction id: `(pg_current_xact_id() << 16) + i`, `i` its
 *   index in the transaction (an append holds at most 10,000 events, below 2^16). Positions are unique,
 *   strictly increasing within a transaction and across transactions by xid, with gaps (normal for readers);
 * - a reader returns only positions below `pg_snapshot_xmin(pg_current_snapshot()) << 16`, evaluated in the
 *   same statement (so the same snapshot) as the rows. Every transaction whose xid is below that xmin has
 *   finished, so the set of rows below the horizon is final: nothing can later commit below a position a
 *   reader has passed.
 * - `xid` above is the transaction id plus a per-schema offset that is 0 unless the schema was restored
 *   into another cluster (see `clock.ts`);
 * - crash safety: a reader can only have passed the position of a committed event, whose commit record
 *   (synchronous_commit=on) is durable; recovery never hands out an xid at or below it again.
 *
 * The cost: a transaction that holds an xid (on any database of the cluster) holds the horizon back while
 * it runs. So `readAll` waits, bounded by `readWaitMs`, until the horizon passes the newest committed
 * position it saw, so a caller that just appended reads its own event; subscriptions simply poll again.
 */
export async function readAllBelowHorizon(
  db: PostgresDatabase,
  sql: PgStatements,
  opts: { fromPosition: bigint; maxCount: number | undefined; types: string[] | undefined },
  readWaitMs: number,
  signal?: AbortSignal,
): Promise<StoredEvent[]> {
  if (opts.types !== undefined && opts.types.length === 0) return [];
  const params: SqlValue[] = [opts.fromPosition];
  if (opts.types !== undefined) params.push(pgTextArray(opts.types));
  params.push(opts.maxCount ?? null);
  const text = sql.readAll(opts.types !== undefined);
  const deadline = Date.now() + readWaitMs;
  let target: bigint | null = null;
  for (let attempt = 0; ; attempt++) {
    const rows = await db.query<PageRow>(text, params);
    const head = rows[0]!;
    const events = rows.filter((r) => r.global_position !== null).map(toStoredEvent);
    const pageFull = opts.maxCount !== undefined && events.length >= opts.maxCount;
    target ??= head.newest;
    // Done when everything committed before this call is below the horizon (or the page is full anyway).
    if (pageFull || target === null || target < head.horizon || Date.now() >= deadline || signal?.aborted) return events;
    await sleep(Math.min(5 * 2 ** attempt, 50), signal);
  }
}

/**
 * A page of some log partitions below the horizon, in one statement (one snapshot). No waiting: a reader
 * of partitions checkpoints at `through` and asks again; everything at or below it is final.
 */
export async function readPartitionsBelowHorizon(db: PostgresDatabase, sql: PgStatements, req: PartitionPageRequest): Promise<PartitionPage> {
  const params: SqlValue[] = [req.fromPosition, ...partitionParams(req.partitionCount), `{${req.partitions.join(',')}}`, req.maxCount];
  const rows = await db.query<PageRow>(sql.readPartitions, params);
  const head = rows[0]!;
  const events = rows.filter((r) => r.global_position !== null).map(toStoredEvent);
  if (events.length >= req.maxCount) return { events, through: events[events.length - 1]!.globalPosition };
  if (head.newest === null) return { events, through: null };
  const belowHorizon = head.horizon - 1n;
  return { events, through: head.newest < belowHorizon ? head.newest : belowHorizon };
}

/** One row of the readAll statement: the snapshot's horizon and newest position, and an event or nulls. */
export type PageRow = EventRow & { horizon: bigint; newest: bigint | null };

/** An events row as the driver returns it (int8 as BigInt, jsonb parsed, timestamptz as Date). */
export interface EventRow {
  global_position: bigint;
  event_id: string;
  stream_id: string;
  stream_version: bigint;
  event_type: string;
  data: unknown;
  metadata: Record<string, unknown> | null;
  schema_version: number;
  recorded_at: Date;
}

export function toStoredEvent(r: EventRow): StoredEvent {
  const e: StoredEvent = {
    id: r.event_id,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    globalPosition: r.global_position,
    type: r.event_type,
    data: r.data,
    recordedAt: r.recorded_at,
    schemaVersion: Number(r.schema_version),
  };
  if (r.metadata !== null) e.metadata = r.metadata;
  return e;
}
