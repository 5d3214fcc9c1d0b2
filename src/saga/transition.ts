import { FencingError } from '../errors.js';
import type { StoreTransaction, SyncStoreWriter } from '../eventstore/store.js';
import type { NewEvent } from '../eventstore/types.js';
import type { SqliteDatabase } from '../storage/sqlite.js';
import { sagaStreamId } from './events.js';
import { fencedResult, fencedUpdateStmt, finishStepStmt, type InstanceChanges, releaseLocksStmt, startedStep, startedStepRow, startStepStmt, type Stmt } from './repo.js';
import type { StepRow } from './rows.js';
import { T_INSTANCES } from './schema.js';

/**
 * A saga transition described as data (the hot ones: start, advance, complete), so that a batch of them can run
 * as one statement on PostgreSQL (see `pg-apply.ts`) instead of one round trip per SQL statement, and one without
 * events synchronously on SQLite (see `batch.ts`).
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
  return t.start === undefined ? null : startedStepRow({ ...t.start, now: t.now }, attempts, budgetFrom);
}

const INSERT_SQL = `INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, deadline_at, lease_owner, lease_until, fence, created_at, updated_at)
  VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (saga_id) DO NOTHING RETURNING saga_id`;

/** What a transition asks of its transaction, one at a time (the answer goes back into the sequence). */
type Op = { query: Stmt } | { run: Stmt } | { append: NewEvent[] } | { work: NonNullable<Transition['work']> };

/** A transition's statements in order: written once, run by {@link applyTransition} and {@link applyTransitionSync}. */
function* transitionOps(t: Transition): Generator<Op, TransitionResult, unknown> {
  let cancelRequested = false;
  if (t.insert !== undefined) {
    const i = t.insert;
    const params = [t.sagaId, i.type, i.version, i.input, i.deadlineAt, i.leaseOwner, i.leaseUntil, t.fence, t.now, t.now];
    const rows = (yield { query: { sql: INSERT_SQL, params } }) as unknown[];
    if (rows.length === 0) return { applied: false, cancelRequested: false, started: null };
  } else {
    const rows = (yield { query: fencedUpdateStmt(t.sagaId, t.fence, t.now, t.changes ?? {}) }) as Record<string, unknown>[];
    cancelRequested = fencedResult(rows, t.sagaId, t.fence).cancelRequested;
  }
  const output = t.work === undefined ? undefined : ((yield { work: t.work }) as string | null);
  if (t.finish !== undefined) yield { run: finishStepStmt({ sagaId: t.sagaId, ...t.finish, ...(output === undefined ? {} : { output }), fence: t.fence, now: t.now }) };
  if (t.releaseLocks) yield { run: releaseLocksStmt(t.sagaId) };
  if (t.events.length > 0) yield { append: t.events };
  let started: StepRow | null = null;
  if (t.start !== undefined) {
    const o = { sagaId: t.sagaId, ...t.start, fence: t.fence, now: t.now };
    started = startedStep(o, (yield { query: startStepStmt(o) }) as Record<string, unknown>[]);
  }
  return { applied: true, cancelRequested, started, ...(output === undefined ? {} : { output }) };
}

/**
 * Runs one transition statement by statement in an open transaction (SQLite, and PostgreSQL's fall-back). On
 * SQLite (`db` given: the store's connection, which the open transaction holds) its own statements run directly,
 * and only the event append and a transactional step's work are awaited.
 */
export async function applyTransition(tx: StoreTransaction, t: Transition, db: SqliteDatabase | null = null): Promise<TransitionResult> {
  const ops = transitionOps(t);
  for (let step = ops.next(); ; ) {
    if (step.done) return step.value;
    const op = step.value;
    if ('query' in op) step = ops.next(db === null ? await tx.sql.query(op.query.sql, op.query.params) : db.querySync(op.query.sql, op.query.params));
    else if ('run' in op) step = ops.next(db === null ? await tx.sql.run(op.run.sql, op.run.params) : db.runSync(op.run.sql, op.run.params));
    else if ('append' in op) step = ops.next(await tx.appendToStream(sagaStreamId(t.sagaId), op.append));
    else step = ops.next(await op.work(tx));
  }
}

/**
 * Runs a transition without work as one synchronous SQLite transaction (`BEGIN IMMEDIATE … COMMIT` with cached
 * prepared statements, its lifecycle events appended in it through the store's synchronous writer): what the
 * async path costs in promise hops, locks and event-loop turns is most of a sequential saga's CPU beside SQLite's
 * own. The caller makes sure no async transaction is open; `writer` is required when the transition has events.
 */
export function applyTransitionSync(db: SqliteDatabase, t: Transition, writer: SyncStoreWriter | null): TransitionResult {
  if (t.work !== undefined || (t.events.length > 0 && writer === null)) {
    throw new TypeError('applyTransitionSync: a transition with work, or with events and no synchronous writer, runs through the store');
  }
  const body = (): TransitionResult => {
    const ops = transitionOps(t);
    for (let step = ops.next(); ; ) {
      if (step.done) return step.value;
      const op = step.value as { query: Stmt } | { run: Stmt } | { append: NewEvent[] };
      if ('query' in op) step = ops.next(db.querySync(op.query.sql, op.query.params));
      else if ('run' in op) step = ops.next(db.runSync(op.run.sql, op.run.params));
      else step = ops.next(writer!.append(sagaStreamId(t.sagaId), op.append));
    }
  };
  return writer === null ? db.writeSync(body) : writer.write(body);
}

/** The error a fenced-out update rejects with (the same as the statement-by-statement path's). */
export function fencedOut(t: Transition): FencingError {
  return new FencingError(`saga:${t.sagaId}`, BigInt(t.fence));
}
