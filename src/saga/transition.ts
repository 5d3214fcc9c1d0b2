import { FencingError } from '../errors.js';
import type { StoreTransaction } from '../eventstore/store.js';
import type { NewEvent } from '../eventstore/types.js';
import { sagaStreamId } from './events.js';
import { fencedUpdate, finishStep, type InstanceChanges, releaseLocks, startStep } from './repo.js';
import type { StepRow } from './rows.js';
import { T_INSTANCES } from './schema.js';

/**
 * A saga transition described as data (the hot ones: start, advance, complete), so that a batch of them can run
 * as one statement on PostgreSQL (see `pg-apply.ts`) instead of one round trip per SQL statement.
 */
export interface Transition {
  sagaId: string;
  /** `update`: the fence the write must still see. `insert`: the new row's fence (1 when claimed at once). */
  fence: number;
  now: number;
  /** A new saga (idempotent: an existing id is left alone and the transition reports `applied: false`). */
  insert?: { type: string; version: number; input: string; deadlineAt: number | null; leaseOwner: string | null; leaseUntil: number | null };
  /** For an update: the instance columns it sets. */
  changes?: InstanceChanges;
  finish?: { stepNo: number; phase: 'do' | 'undo'; state: 'succeeded' | 'failed'; output: string | null; error: string | null; uncertain: boolean };
  start?: { stepNo: number; phase: 'do' | 'undo'; name: string };
  releaseLocks?: boolean;
  /** Lifecycle events for `saga-<id>`, in the same commit. */
  events: NewEvent[];
  /**
   * A transactional step's action: runs after the fenced update, in the same transaction; what it returns is the
   * step's output. Such a transition always runs alone (a shared batch's fall-back could run it twice).
   */
  work?: (tx: StoreTransaction) => Promise<string | null>;
}

/** What a transition did. An update that lost its fence is not a result: it rejects with `FencingError`. */
export interface TransitionResult {
  /** False only for an insert whose saga id existed already. */
  applied: boolean;
  cancelRequested: boolean;
  /** The step row `start` recorded. */
  started: StepRow | null;
  /** The output `work` returned. */
  output?: string | null;
}

/** The step row `start` recorded, given the attempt counters the database returned. */
export function startedRow(t: Transition, attempts: number, budgetFrom: number): StepRow | null {
  if (t.start === undefined) return null;
  const s = t.start;
  return { stepNo: s.stepNo, phase: s.phase, name: s.name, state: 'started', attempts, budgetFrom, uncertain: false, output: null, error: null, startedAt: t.now, endedAt: null };
}

/** Runs one transition statement by statement in an open transaction (SQLite, and PostgreSQL's fall-back). */
export async function applyTransition(tx: StoreTransaction, t: Transition): Promise<TransitionResult> {
  let cancelRequested = false;
  if (t.insert !== undefined) {
    const i = t.insert;
    const rows = await tx.sql.query(
      `INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, deadline_at, lease_owner, lease_until, fence, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (saga_id) DO NOTHING RETURNING saga_id`,
      [t.sagaId, i.type, i.version, i.input, i.deadlineAt, i.leaseOwner, i.leaseUntil, t.fence, t.now, t.now],
    );
    if (rows.length === 0) return { applied: false, cancelRequested: false, started: null };
  } else {
    cancelRequested = (await fencedUpdate(tx.sql, t.sagaId, t.fence, t.now, t.changes ?? {})).cancelRequested;
  }
  const output = t.work === undefined ? undefined : await t.work(tx);
  if (t.finish !== undefined) await finishStep(tx.sql, { sagaId: t.sagaId, ...t.finish, ...(output === undefined ? {} : { output }), fence: t.fence, now: t.now });
  if (t.releaseLocks) await releaseLocks(tx.sql, t.sagaId);
  if (t.events.length > 0) await tx.appendToStream(sagaStreamId(t.sagaId), t.events);
  const started = t.start === undefined ? null : await startStep(tx.sql, { sagaId: t.sagaId, ...t.start, fence: t.fence, now: t.now });
  return { applied: true, cancelRequested, started, ...(output === undefined ? {} : { output }) };
}

/** The error a fenced-out update rejects with (the same as the statement-by-statement path's). */
export function fencedOut(t: Transition): FencingError {
  return new FencingError(`saga:${t.sagaId}`, BigInt(t.fence));
}
