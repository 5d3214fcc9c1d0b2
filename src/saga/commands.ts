import { SagaNotFoundError, SagaStateError } from '../errors.js';
import { storeTransaction } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { lifecycleEvent, sagaStreamId } from './events.js';
import { loadInstance, startStep } from './repo.js';
import { decodeInstance, type InstanceRow, type StepRow } from './rows.js';
import { T_INSTANCES, T_SIGNALS, T_STEPS } from './schema.js';
import { isTerminalStatus } from './types.js';

/**
 * The engine's writes that come from outside a run: start, signal, cancel, retryCompensation. Each is one
 * transaction on the store's database, with its lifecycle event appended in it.
 */

/** What {@link insertSaga} did: whether it created the saga, and the claimed row when it claimed it at once. */
export interface Inserted {
  created: boolean;
  claimed?: { row: InstanceRow; first: StepRow | null };
}

/**
 * Inserts a new saga (idempotent per id). With `claim`, the new row is leased to this runner right away and,
 * when the first step is a plain one, that step is recorded as started in the same commit: a saga started on a
 * runner with room goes from start to its first action without a claim round trip.
 */
export async function insertSaga(
  store: EventStore,
  o: {
    sagaId: string; name: string; version: number; input: string; deadlineAt: number | null; now: number; events: boolean;
    claim?: { runnerId: string; leaseUntil: number; firstStep: string | null };
  },
): Promise<Inserted> {
  return storeTransaction(store, async (tx) => {
    const c = o.claim;
    const rows = await tx.sql.query(
      `INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, deadline_at, lease_owner, lease_until, fence, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (saga_id) DO NOTHING RETURNING *`,
      [o.sagaId, o.name, o.version, o.input, o.deadlineAt, c?.runnerId ?? null, c?.leaseUntil ?? null, c ? 1 : 0, o.now, o.now],
    );
    if (rows.length === 0) return { created: false };
    if (o.events) await tx.appendToStream(sagaStreamId(o.sagaId), lifecycleEvent({ sagaId: o.sagaId, sagaName: o.name, version: o.version, status: 'running' }));
    if (c === undefined) return { created: true };
    const first = c.firstStep === null ? null : await startStep(tx.sql, { sagaId: o.sagaId, stepNo: 0, phase: 'do', name: c.firstStep, fence: 1, now: o.now });
    return { created: true, claimed: { row: decodeInstance(rows[0]!), first } };
  });
}

/** Stores a signal once per signal id and wakes the saga if it waits. */
export async function deliverSignal(
  store: EventStore,
  o: { sagaId: string; name: string; payload: string; signalId: string; now: number },
): Promise<void> {
  await storeTransaction(store, async (tx) => {
    const dup = await tx.sql.query(`SELECT 1 AS x FROM ${T_SIGNALS} WHERE saga_id = ? AND signal_id = ?`, [o.sagaId, o.signalId]);
    if (dup.length > 0) return; // a redelivery: already in the inbox
    const row = await loadInstance(tx.sql, o.sagaId);
    if (row === null) throw new SagaNotFoundError(o.sagaId);
    if (isTerminalStatus(row.status)) throw new SagaStateError(o.sagaId, row.status, `receive signal "${o.name}"`);
    await tx.sql.run(
      `INSERT INTO ${T_SIGNALS} (saga_id, signal_id, name, payload, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (saga_id, signal_id) DO NOTHING`,
      [o.sagaId, o.signalId, o.name, o.payload, o.now],
    );
    await tx.sql.run(`UPDATE ${T_INSTANCES} SET wake_at = ? WHERE saga_id = ? AND status = 'waiting'`, [o.now, o.sagaId]);
  });
}

/**
 * Requests a cancel. A saga no runner holds turns to `cancelling` at once (its fence moves on, so a claim racing
 * with this loses); a held one is flagged, and its runner aborts the in-flight step and turns back itself.
 * Returns true when the saga was flagged while held.
 */
export async function requestCancel(store: EventStore, sagaId: string, now: number, events: boolean): Promise<boolean> {
  return storeTransaction(store, async (tx) => {
    const row = await loadInstance(tx.sql, sagaId);
    if (row === null) throw new SagaNotFoundError(sagaId);
    if (row.status === 'cancelling' || row.status === 'cancelled' || row.status === 'compensating') return false;
    if (isTerminalStatus(row.status)) throw new SagaStateError(sagaId, row.status, 'cancel');
    if (row.leaseUntil === null || row.leaseUntil <= now) {
      const r = await tx.sql.run(
        `UPDATE ${T_INSTANCES} SET status = 'cancelling', undo_outcome = 'cancelled', cancel_requested = 1, error = ?, wake_at = NULL,
           timer_at = NULL, lease_owner = NULL, lease_until = NULL, fence = fence + 1, updated_at = ? WHERE saga_id = ? AND fence = ?`,
        ['cancelled on request', now, sagaId, row.fence],
      );
      if (r.changes === 1) {
        if (events) await tx.appendToStream(sagaStreamId(sagaId), lifecycleEvent({ sagaId, sagaName: row.sagaType, version: row.version, status: 'cancelling', error: 'cancelled on request' }));
        return false;
      }
    }
    // The holder may park the saga between our read and this write (PostgreSQL's READ COMMITTED re-checks
    // the row): a parked saga must then be woken, or nobody would look at the flag.
    await tx.sql.run(
      `UPDATE ${T_INSTANCES} SET cancel_requested = 1, wake_at = CASE WHEN status = 'waiting' THEN ? ELSE wake_at END, updated_at = ? WHERE saga_id = ?`,
      [now, now, sagaId],
    );
    return true;
  });
}

/** Re-drives a `compensation_failed` saga: a fresh retry budget for its failed compensations. */
export async function redriveCompensation(store: EventStore, sagaId: string, now: number, events: boolean): Promise<void> {
  await storeTransaction(store, async (tx) => {
    const row = await loadInstance(tx.sql, sagaId);
    if (row === null) throw new SagaNotFoundError(sagaId);
    if (row.status !== 'compensation_failed') throw new SagaStateError(sagaId, row.status, 'retry its compensation (it is not compensation_failed)');
    const status = row.undoOutcome === 'cancelled' ? 'cancelling' : 'compensating';
    await tx.sql.run(
      `UPDATE ${T_INSTANCES} SET status = ?, wake_at = NULL, lease_owner = NULL, lease_until = NULL, fence = fence + 1, updated_at = ?
       WHERE saga_id = ? AND status = 'compensation_failed'`,
      [status, now, sagaId],
    );
    await tx.sql.run(`UPDATE ${T_STEPS} SET budget_from = attempts WHERE saga_id = ? AND phase = 'undo' AND state = 'failed'`, [sagaId]);
    if (!events) return;
    await tx.appendToStream(
      sagaStreamId(sagaId),
      lifecycleEvent({ sagaId, sagaName: row.sagaType, version: row.version, status, error: row.error }, 'SagaCompensationRetried'),
    );
  });
}
