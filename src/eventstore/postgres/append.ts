import { InvalidArgumentError } from '../../errors.js';
import type { SqlExecutor } from '../../storage/port.js';
import type { AppendRequest } from '../backend.js';
import { checkExpectedVersion } from '../expected-version.js';
import { type ExistingEvent, resolveIdempotentAppend } from '../idempotency.js';
import type { AppendHook, AppendResult, RecordedEvent } from '../types.js';
import type { PgStatements } from './schema.js';

/** Positions available to one transaction: its xid shifted left by 16 bits, plus 0 … 65,535. */
export const POSITIONS_PER_TRANSACTION = 65_536;

/** What one append did; `firstPosition` is null for an idempotent retry (nothing stored). */
export interface PgApplied {
  result: AppendResult;
  firstPosition: bigint | null;
}

/**
 * The whole append, run inside a transaction the caller opened (the backend, or a test that wants to keep
 * the transaction open to interleave writers):
 * 1. lock the stream's row (an upsert, so a new stream is created and locked in one step). Only appends
 *    to the same stream wait here; in READ COMMITTED every later statement sees what the previous holder
 *    of the lock committed;
 * 2. idempotent ids: events already stored with these ids make this a retry (same content) or a conflict;
 * 3. the expected-version check against the locked version;
 * 4. one INSERT … SELECT FROM unnest(…) for the batch, at the next positions derived from this transaction's
 *    id (after those of earlier appends in the same transaction), and
 *    the stream row's new version;
 * 5. the append hooks, then a NOTIFY that is delivered only if the transaction commits.
 */
export async function appendInTransaction(
  tx: SqlExecutor,
  sql: PgStatements,
  req: AppendRequest,
  hooks: readonly AppendHook[],
  channel: string,
): Promise<PgApplied> {
  const [lock] = await tx.query<{ version: bigint; xid: bigint; next_position: bigint }>(sql.lockStream, [req.streamId]);
  const current = lock!.version;
  if (req.events.some((e) => e.idGiven)) {
    const rows = await tx.query<{
      global_position: bigint;
      event_id: string;
      stream_id: string;
      stream_version: bigint;
      event_type: string;
      data: unknown;
    }>(sql.byEventIds, [pgTextArray(req.events.map((e) => e.id))]);
    const existing: ExistingEvent[] = rows.map((r) => ({
      id: r.event_id,
      streamId: r.stream_id,
      streamVersion: r.stream_version,
      globalPosition: r.global_position,
      type: r.event_type,
      data: r.data,
    }));
    const replay = resolveIdempotentAppend(req.streamId, req.events, existing);
    if (replay) return { result: replay, firstPosition: null };
  }
  checkExpectedVersion(req.streamId, req.expectedVersion, current);
  // Positions of one transaction live in [xid << 16, (xid + 1) << 16): more events would collide with the next xid's.
  if (lock!.next_position + BigInt(req.events.length) > (lock!.xid + 1n) << 16n) {
    throw new InvalidArgumentError(
      'events',
      `one transaction would hold more than ${POSITIONS_PER_TRANSACTION} events`,
      'Split the work into several transactions (storeTransaction) or appends.',
    );
  }
  const next = current + BigInt(req.events.length);
  const [ins] = await tx.query<{ first: bigint; last: bigint }>(sql.insert, [
    lock!.next_position,
    req.streamId,
    current,
    new Date(req.recordedAt).toISOString(),
    pgTextArray(req.events.map((e) => e.id)),
    pgTextArray(req.events.map((e) => e.type)),
    pgTextArray(req.events.map((e) => e.data)),
    pgTextArray(req.events.map((e) => e.metadata)),
    `{${req.events.map((e) => e.schemaVersion).join(',')}}`,
    next,
    req.streamId,
  ]);
  const applied: PgApplied = { result: { nextExpectedVersion: next, lastGlobalPosition: ins!.last }, firstPosition: ins!.first };
  if (hooks.length > 0) {
    const recorded = toRecordedEvents(req, applied);
    for (const hook of hooks) await hook.apply(recorded, tx);
  }
  await tx.query(sql.notify, [channel, '']);
  return applied;
}

/**
 * A PostgreSQL array literal of text (NULL for null). The port's values are scalars, so arrays travel as
 * their literal text and are cast with `::text[]` in the statement.
 */
export function pgTextArray(values: ReadonlyArray<string | null>): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}

// The events of one append occupy consecutive positions: (xid << 16) + 0, 1, 2, …
function toRecordedEvents(req: AppendRequest, applied: PgApplied): RecordedEvent[] {
  const firstVersion = applied.result.nextExpectedVersion - BigInt(req.events.length) + 1n;
  return req.events.map((e, i) => {
    const recorded: RecordedEvent = {
      id: e.id,
      streamId: req.streamId,
      streamVersion: firstVersion + BigInt(i),
      globalPosition: applied.firstPosition! + BigInt(i),
      type: e.type,
      data: JSON.parse(e.data),
      recordedAt: new Date(req.recordedAt),
      schemaVersion: e.schemaVersion,
    };
    if (e.metadata !== null) recorded.metadata = JSON.parse(e.metadata) as Record<string, unknown>;
    return recorded;
  });
}
