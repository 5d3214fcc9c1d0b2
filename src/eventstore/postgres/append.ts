import { InvalidArgumentError, StorageError } from '../../errors.js';
import type { SqlExecutor } from '../../storage/port.js';
import { signedHashKey } from '../../support/hash.js';
import type { AppendRequest } from '../backend.js';
import { checkExpectedVersion } from '../expected-version.js';
import { type ExistingEvent, resolveIdempotentAppend } from '../idempotency.js';
import { type AppliedAppend, toRecordedEvents } from '../applied.js';
import type { AppendHook } from '../types.js';
import type { PgStatements } from './schema.js';
import type { EventRow } from './read.js';

/** Positions available to one transaction: its xid shifted left by 16 bits, plus 0 … 65,535. */
export const POSITIONS_PER_TRANSACTION = 65_536;

/**
 * The whole append, run inside a transaction the caller opened (the backend, a storeTransaction, or a test
 * that keeps the transaction open to interleave writers):
 * 1. lock the stream: a transaction-scoped advisory lock on a hash of (schema, stream id). Only appends to
 *    the same stream wait here. It is taken before the transaction writes anything, so the transaction id
 *    (and with it the position) is assigned after the previous holder committed: positions always increase
 *    with stream versions, and the global log lists each stream in stream order. (A row lock would not do:
 *    `SELECT … FOR UPDATE` assigns the transaction id before it waits.);
 * 2. read the stream's head in a new statement, so in READ COMMITTED it sees the previous holder's commit;
 * 3. idempotent ids: events already stored with these ids make this a retry (same content) or a conflict;
 * 4. the expected-version check against the head;
 * 5. one INSERT … SELECT FROM unnest(…) for the batch at this transaction's next positions; then the
 *    append hooks. (The NOTIFY that wakes other processes is sent after COMMIT, see `NotifySender`.)
 */
export async function appendInTransaction(
  tx: SqlExecutor,
  sql: PgStatements,
  req: AppendRequest,
  hooks: readonly AppendHook[],
  schema: string,
): Promise<AppliedAppend> {
  await tx.query(sql.lockStream, [`${schema}:${req.streamId}`]);
  const [head] = await tx.query<{ xid: bigint; next_position: bigint; version: bigint | null; last_position: bigint | null }>(
    sql.streamHead,
    [req.streamId],
  );
  const { xid, next_position: nextPosition } = head!;
  const current = head!.version ?? 0n;
  if (req.events.some((e) => e.idGiven)) {
    const rows = await tx.query<Pick<EventRow, 'global_position' | 'event_id' | 'stream_id' | 'stream_version' | 'event_type' | 'data'>>(
      sql.byEventIds,
      [pgTextArray(req.events.map((e) => e.id))],
    );
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
  if (head!.last_position !== null && head!.last_position >= nextPosition) {
    // Only in a storeTransaction that wrote before appending: its id predates a later writer's commit to this
    // stream, so its events would sort before that writer's in the global log. Retrying gets a newer id.
    throw new StorageError(`Stream "${req.streamId}" received a newer append after this transaction started writing`, {
      retryable: true,
      hint: 'Retry the whole transaction; append before other writes in a storeTransaction to avoid this.',
    });
  }
  // Positions of one transaction live in [xid << 16, (xid + 1) << 16): more events would collide with the next xid's.
  if (nextPosition + BigInt(req.events.length) > (xid + 1n) << 16n) {
    throw new InvalidArgumentError(
      'events',
      `one transaction would hold more than ${POSITIONS_PER_TRANSACTION} events`,
      'Split the work into several transactions (storeTransaction) or appends.',
    );
  }
  const next = current + BigInt(req.events.length);
  const [ins] = await tx.query<{ first: bigint; last: bigint }>(sql.insert, [
    nextPosition,
    req.streamId,
    current,
    new Date(req.recordedAt).toISOString(),
    signedHashKey(req.streamId),
    pgTextArray(req.events.map((e) => e.id)),
    pgTextArray(req.events.map((e) => e.type)),
    pgTextArray(req.events.map((e) => e.data)),
    pgTextArray(req.events.map((e) => e.metadata)),
    `{${req.events.map((e) => e.schemaVersion).join(',')}}`,
  ]);
  const applied: AppliedAppend = { result: { nextExpectedVersion: next, lastGlobalPosition: ins!.last }, firstPosition: ins!.first };
  if (hooks.length > 0) {
    const recorded = toRecordedEvents(req, applied);
    for (const hook of hooks) await hook.apply(recorded, tx);
  }
  return applied;
}

/**
 * A PostgreSQL array literal of text (NULL for null). The port's values are scalars, so arrays travel as
 * their literal text and are cast with `::text[]` in the statement.
 */
export function pgTextArray(values: ReadonlyArray<string | null>): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}
