import { FencingError } from '../errors.js';
import type { StoreTransaction } from '../eventstore/store.js';
import type { SqlDialect, SqlExecutor, SqlValue } from '../storage/port.js';
import { decodeInstance, decodeStep, type InstanceRow, type StepRow } from './rows.js';
import { ACTIVE_STATUSES, T_INSTANCES, T_LOCKS, T_SIGNALS, T_STEPS } from './schema.js';


/** The columns a fenced transition may set. */
export interface InstanceChanges {
  status?: string;
  next_step?: number;
  undo_outcome?: string | null;
  wake_at?: number | null;
  timer_at?: number | null;
  error?: string | null;
  /** Release the lease (`lease_owner`, `lease_until` to NULL); the fence stays, the next claim moves it. */
  release?: boolean;
  lease_until?: number;
}

/** Brings an in-memory instance row up to date after a committed transition. */
export function noteChanges(row: InstanceRow, changes: InstanceChanges, cancelRequested: boolean, now: number): void {
  row.updatedAt = now;
  if (changes.status !== undefined) row.status = changes.status as InstanceRow['status'];
  if (changes.next_step !== undefined) row.nextStep = changes.next_step;
  if (changes.undo_outcome !== undefined) row.undoOutcome = changes.undo_outcome as InstanceRow['undoOutcome'];
  if (changes.wake_at !== undefined) row.wakeAt = changes.wake_at;
  if (changes.timer_at !== undefined) row.timerAt = changes.timer_at;
  if (changes.error !== undefined) row.error = changes.error;
  if (cancelRequested) row.cancelRequested = true;
}

/** (saga type, versions) pairs an engine can run: claims only pick those. */
export type RunnableFilter = ReadonlyMap<string, readonly number[]>;

/** The condition that picks the saga types and versions of `filter`. */
export function filterSql(filter: RunnableFilter): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const [type, versions] of filter) {
    parts.push(`(saga_type = ? AND def_version IN (${versions.map(() => '?').join(', ')}))`);
    params.push(type, ...versions);
  }
  return { sql: parts.length === 0 ? '1 = 0' : `(${parts.join(' OR ')})`, params };
}

function runnable(filter: RunnableFilter, now: number): { sql: string; params: SqlValue[] } {
  const f = filterSql(filter);
  return {
    sql: `status IN ${ACTIVE_STATUSES} AND (wake_at IS NULL OR wake_at <= ?) AND (lease_until IS NULL OR lease_until <= ?) AND ${f.sql}`,
    params: [now, now, ...f.params],
  };
}

/** True if some saga is claimable now (a cheap read, so idle pollers never take the write lock). */
export async function anyRunnable(db: SqlExecutor, filter: RunnableFilter, now: number): Promise<boolean> {
  const r = runnable(filter, now);
  const rows = await db.query(`SELECT saga_id FROM ${T_INSTANCES} WHERE ${r.sql} LIMIT 1`, r.params);
  return rows.length > 0;
}

/**
 * Claims up to `limit` runnable sagas: a new lease and `fence + 1` each. On PostgreSQL the candidates are
 * picked once in a materialized CTE with `FOR UPDATE SKIP LOCKED` (concurrent claimers take different rows; an
 * `IN (sub-select … LIMIT)` could be re-scanned by the planner and, skipping locked rows, return more than the
 * limit). On SQLite the caller's transaction holds the write lock (`BEGIN IMMEDIATE`). The outer WHERE repeats
 * the condition, so a row that changed between the pick and the update is left alone.
 */
export async function claimRunnable(
  tx: SqlExecutor,
  dialect: SqlDialect,
  o: { runnerId: string; now: number; leaseMs: number; limit: number; filter: RunnableFilter },
): Promise<InstanceRow[]> {
  const r = runnable(o.filter, o.now);
  const set = 'lease_owner = ?, lease_until = ?, fence = fence + 1, updated_at = ?';
  const order = 'ORDER BY COALESCE(wake_at, 0), created_at LIMIT ?';
  const rows =
    dialect === 'postgres'
      ? await tx.query(
          `WITH picked AS MATERIALIZED (SELECT saga_id FROM ${T_INSTANCES} WHERE ${r.sql} ${order} FOR UPDATE SKIP LOCKED)
           UPDATE ${T_INSTANCES} SET ${set} WHERE saga_id IN (SELECT saga_id FROM picked) AND ${r.sql} RETURNING *`,
          [...r.params, o.limit, o.runnerId, o.now + o.leaseMs, o.now, ...r.params],
        )
      : await tx.query(
          `UPDATE ${T_INSTANCES} SET ${set} WHERE saga_id IN (SELECT saga_id FROM ${T_INSTANCES} WHERE ${r.sql} ${order}) AND ${r.sql} RETURNING *`,
          [o.runnerId, o.now + o.leaseMs, o.now, ...r.params, o.limit, ...r.params],
        );
  return rows.map(decodeInstance);
}

/** A statement and its parameters (run by an async executor, or synchronously on SQLite: see `transition.ts`). */
export interface Stmt {
  sql: string;
  params: SqlValue[];
}

/**
 * The fenced write every transition starts with: changes the instance only if `fence` is still current, and
 * returns whether a cancel was requested meanwhile (read the rows with {@link fencedResult}).
 */
export function fencedUpdateStmt(sagaId: string, fence: number, now: number, changes: InstanceChanges): Stmt {
  const params: SqlValue[] = [now];
  let shape = changes.release ? 1 : 0;
  for (let k = 0; k < CHANGE_KEYS.length; k++) {
    const v = changes[CHANGE_KEYS[k]!];
    if (v !== undefined) {
      shape |= 2 << k;
      params.push(v);
    }
  }
  params.push(sagaId, fence);
  return { sql: FENCED_SQL[shape] ??= fencedSql(shape), params };
}

const CHANGE_KEYS = ['status', 'next_step', 'undo_outcome', 'wake_at', 'timer_at', 'error', 'lease_until'] as const;
/**
 * The statement text for each set of changed columns, made once: the same string object every time, so the
 * driver's statement cache finds it without hashing a new string (a measurable share of a sequential saga's CPU).
 */
const FENCED_SQL: string[] = [];

function fencedSql(shape: number): string {
  const sets = ['updated_at = ?', ...CHANGE_KEYS.filter((_, k) => (shape & (2 << k)) !== 0).map((key) => `${key} = ?`)];
  if ((shape & 1) !== 0) sets.push('lease_owner = NULL', 'lease_until = NULL');
  return `UPDATE ${T_INSTANCES} SET ${sets.join(', ')} WHERE saga_id = ? AND fence = ? RETURNING cancel_requested`;
}

/** What the fenced update returned. Zero rows means another runner owns the saga now: `FencingError`. */
export function fencedResult(rows: readonly Record<string, unknown>[], sagaId: string, fence: number): { cancelRequested: boolean } {
  if (rows.length === 0) throw new FencingError(`saga:${sagaId}`, BigInt(fence));
  return { cancelRequested: Number(rows[0]!.cancel_requested) !== 0 };
}

/** {@link fencedUpdateStmt}, run. */
export async function fencedUpdate(tx: SqlExecutor, sagaId: string, fence: number, now: number, changes: InstanceChanges): Promise<{ cancelRequested: boolean }> {
  const s = fencedUpdateStmt(sagaId, fence, now, changes);
  return fencedResult(await tx.query(s.sql, s.params), sagaId, fence);
}

/**
 * Extends a lease, but only while it is held: a renewal that lands after the run released the saga (a timer
 * racing the release) must not re-lease it, or the saga would sit unclaimable until the lease ran out.
 */
export async function renewLease(tx: SqlExecutor, sagaId: string, fence: number, now: number, leaseUntil: number): Promise<{ cancelRequested: boolean } | 'released'> {
  const rows = await tx.query<{ cancel_requested: unknown }>(
    `UPDATE ${T_INSTANCES} SET lease_until = ?, updated_at = ? WHERE saga_id = ? AND fence = ? AND lease_owner IS NOT NULL RETURNING cancel_requested`,
    [leaseUntil, now, sagaId, fence],
  );
  if (rows.length > 0) return { cancelRequested: Number(rows[0]!.cancel_requested) !== 0 };
  const still = await tx.query(`SELECT 1 AS x FROM ${T_INSTANCES} WHERE saga_id = ? AND fence = ?`, [sagaId, fence]);
  if (still.length > 0) return 'released';
  throw new FencingError(`saga:${sagaId}`, BigInt(fence));
}

/** A step attempt to record as started. */
export interface StepStart {
  sagaId: string;
  stepNo: number;
  phase: 'do' | 'undo';
  name: string;
  fence: number;
  now: number;
}

/** Records a step attempt as started (attempts + 1); read the rows with {@link startedStep}. After the fenced update. */
export function startStepStmt(o: StepStart): Stmt {
  return { sql: START_STEP_SQL, params: [o.sagaId, o.stepNo, o.phase, o.name, o.fence, o.now] };
}

const START_STEP_SQL = `INSERT INTO ${T_STEPS} (saga_id, step_no, phase, name, state, attempts, fence, started_at)
     VALUES (?, ?, ?, ?, 'started', 1, ?, ?)
     ON CONFLICT (saga_id, step_no, phase) DO UPDATE SET state = 'started', attempts = ${T_STEPS}.attempts + 1,
       fence = excluded.fence, started_at = excluded.started_at, ended_at = NULL, uncertain = 0
     RETURNING attempts, budget_from`;

/** The step row {@link startStepStmt} recorded, given the counters it returned: the rest is what it wrote. */
export function startedStepRow(o: Omit<StepStart, 'sagaId' | 'fence'>, attempts: number, budgetFrom: number): StepRow {
  return { stepNo: o.stepNo, phase: o.phase, name: o.name, state: 'started', attempts, budgetFrom, uncertain: false, output: null, error: null, startedAt: o.now, endedAt: null };
}

/** The step row {@link startStepStmt} recorded, from its rows. */
export function startedStep(o: StepStart, rows: readonly Record<string, unknown>[]): StepRow {
  return startedStepRow(o, Number(rows[0]!.attempts), Number(rows[0]!.budget_from));
}

/** {@link startStepStmt}, run. */
export async function startStep(tx: SqlExecutor, o: StepStart): Promise<StepRow> {
  const s = startStepStmt(o);
  return startedStep(o, await tx.query(s.sql, s.params));
}

/** A step attempt's result. */
export interface StepFinish {
  sagaId: string;
  stepNo: number;
  phase: 'do' | 'undo';
  state: 'succeeded' | 'failed';
  output?: string | null;
  error?: string | null;
  uncertain?: boolean;
  fence: number;
  now: number;
}

/** Records the result of a step attempt. */
export function finishStepStmt(o: StepFinish): Stmt {
  return { sql: FINISH_STEP_SQL, params: [o.state, o.output ?? null, o.error ?? null, o.uncertain ? 1 : 0, o.fence, o.now, o.sagaId, o.stepNo, o.phase] };
}

const FINISH_STEP_SQL = `UPDATE ${T_STEPS} SET state = ?, output = ?, error = ?, uncertain = ?, fence = ?, ended_at = ? WHERE saga_id = ? AND step_no = ? AND phase = ?`;

/** {@link finishStepStmt}, run. */
export async function finishStep(tx: SqlExecutor, o: StepFinish): Promise<void> {
  const s = finishStepStmt(o);
  await tx.run(s.sql, s.params);
}

/** Removes a step row recorded as started whose attempt never began (the saga turned back first). */
export async function deleteStep(tx: SqlExecutor, sagaId: string, stepNo: number, phase: 'do' | 'undo'): Promise<void> {
  await tx.run(`DELETE FROM ${T_STEPS} WHERE saga_id = ? AND step_no = ? AND phase = ?`, [sagaId, stepNo, phase]);
}

/** One saga's instance row, or null. */
export async function loadInstance(db: SqlExecutor, sagaId: string): Promise<InstanceRow | null> {
  const rows = await db.query(`SELECT * FROM ${T_INSTANCES} WHERE saga_id = ?`, [sagaId]);
  return rows[0] === undefined ? null : decodeInstance(rows[0]);
}

const STEP_COLUMNS = ['step_no', 'phase', 'name', 'state', 'attempts', 'budget_from', 'uncertain', 'output', 'error', 'started_at', 'ended_at'];

/** One saga's instance row and step rows, in one statement (one round trip, one snapshot). */
export async function loadInstanceWithSteps(db: SqlExecutor, sagaId: string): Promise<{ row: InstanceRow; steps: StepRow[] } | null> {
  const rows = await db.query(
    `SELECT i.*, ${STEP_COLUMNS.map((c) => `s.${c} AS s_${c}`).join(', ')} FROM ${T_INSTANCES} i
     LEFT JOIN ${T_STEPS} s ON s.saga_id = i.saga_id WHERE i.saga_id = ? ORDER BY s.step_no, s.phase`,
    [sagaId],
  );
  if (rows[0] === undefined) return null;
  const steps = rows
    .filter((r) => r.s_step_no !== null && r.s_step_no !== undefined)
    .map((r) => decodeStep(Object.fromEntries(STEP_COLUMNS.map((c) => [c, r[`s_${c}`]]))));
  return { row: decodeInstance(rows[0]), steps };
}

/** One saga's step rows. */
export async function loadSteps(db: SqlExecutor, sagaId: string): Promise<StepRow[]> {
  const rows = await db.query(`SELECT * FROM ${T_STEPS} WHERE saga_id = ? ORDER BY step_no, phase`, [sagaId]);
  return rows.map(decodeStep);
}

/** The signal a waiting step consumes: the one it already took (after a crash), else the oldest unconsumed. */
export async function findSignal(tx: SqlExecutor, sagaId: string, stepNo: number, name: string): Promise<{ signalId: string; payload: string | null } | null> {
  const rows = await tx.query<{ signal_id: string; payload: string | null }>(
    `SELECT signal_id, payload FROM ${T_SIGNALS} WHERE saga_id = ? AND name = ? AND (consumed_step IS NULL OR consumed_step = ?)
     ORDER BY CASE WHEN consumed_step IS NULL THEN 1 ELSE 0 END, received_at, signal_id LIMIT 1`,
    [sagaId, name, stepNo],
  );
  const r = rows[0];
  return r === undefined ? null : { signalId: String(r.signal_id), payload: r.payload === null ? null : String(r.payload) };
}

/** Marks a signal consumed by a step (in the step-start transaction, so a crash cannot lose it). */
export async function consumeSignal(tx: SqlExecutor, sagaId: string, signalId: string, stepNo: number): Promise<void> {
  await tx.run(`UPDATE ${T_SIGNALS} SET consumed_step = ? WHERE saga_id = ? AND signal_id = ?`, [stepNo, sagaId, signalId]);
}

/**
 * Takes the semantic locks of a saga; returns the resources held by other sagas (nothing is taken then).
 * Runs inside a fenced transition, so a failure leaves no partial lock behind.
 */
export async function acquireLocks(tx: StoreTransaction, sagaId: string, resources: readonly string[], now: number): Promise<string[]> {
  const busy: string[] = [];
  for (const resource of resources) {
    await tx.sql.run(`INSERT INTO ${T_LOCKS} (resource, saga_id, acquired_at) VALUES (?, ?, ?) ON CONFLICT (resource) DO NOTHING`, [resource, sagaId, now]);
    const rows = await tx.sql.query<{ saga_id: string }>(`SELECT saga_id FROM ${T_LOCKS} WHERE resource = ?`, [resource]);
    if (rows[0] !== undefined && String(rows[0].saga_id) !== sagaId) busy.push(resource);
  }
  if (busy.length > 0) await releaseLocks(tx.sql, sagaId);
  return busy;
}

/** Releases every semantic lock a saga holds (in its terminal transition). */
export function releaseLocksStmt(sagaId: string): Stmt {
  return { sql: RELEASE_LOCKS_SQL, params: [sagaId] };
}

const RELEASE_LOCKS_SQL = `DELETE FROM ${T_LOCKS} WHERE saga_id = ?`;

/** {@link releaseLocksStmt}, run. */
export async function releaseLocks(tx: SqlExecutor, sagaId: string): Promise<void> {
  const s = releaseLocksStmt(sagaId);
  await tx.run(s.sql, s.params);
}
