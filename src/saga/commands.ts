import { SagaNotFoundError, SagaStateError } from '../errors.js';
import { storeDatabase, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { lifecycleEvent, sagaStreamId } from './events.js';
import { loadInstance } from './repo.js';
import { T_INSTANCES, T_SIGNALS, T_STEPS } from './schema.js';
import { isTerminalStatus } from './types.js';

/**
 * The engine's writes that come from outside a run: start, signal, cancel, retryCompensation. Each is one
 * transaction on the store's database, with its lifecycle event appended in it.
 */

/**
 * On PostgreSQL, takes the saga stream's append lock (the event store's key) before touching the instance row:
 * the one-statement transitions (`pg-apply.ts`) take it before the row too, so the two never wait on each other
 * in a cycle.
 */
async function lockSagaStream(store: EventStore, tx: StoreTransaction, sagaId: string): Promise<void> {
  if (storeDatabase(store).dialect !== 'postgres') return;
  await tx.sql.query("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || ?, 0))", [sagaStreamId(sagaId)]);
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
    if (events) await lockSagaStream(store, tx, sagaId);
    const row = await loadInstance(tx.sql, sagaId);
    if (row === null) throw new SagaNotFoundError(sagaId);
    if (row.status === 'cancelling' || row.status === 'cancelled' || row.status === 'compensating') return false;
    if (isTerminalStatus(row.status)) throw new SagaStateError(sagaId, row.status, 'cancel');
    if (row.leaseUntil === null || row.leaseUntil <= now) {
      const r = await tx.sql.run(
        `UPDATE ${T_INSTANCES} SET status = 'cancelling', undo_outcome = 'cancelled', cancel_requested = 1, error = ?, wake_at = NULL,
           timer_at = NULL, lease_owner = NULL, lease_until = NULL, fence = fence + 1, updated_at = ? WHERE saga_id = ? AND fence = ? AND status = ?`,
        ['cancelled on request', now, sagaId, row.fence, row.status],
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
    if (events) await lockSagaStream(store, tx, sagaId);
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
