import { InvalidArgumentError } from '../errors.js';
import { ConsistencyTimeoutError, ProjectionFailedError } from '../errors.js';
import type { SqlExecutor } from '../storage/port.js';
import { sleep } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { requireRow } from './registry.js';

/** Where a projection's checkpoint lives: the read model's database and the projection's name. */
export interface ProjectionRef {
  db: SqlExecutor;
  name: string;
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long with `ConsistencyTimeoutError` (default 5000 ms). */
  timeoutMs?: number;
  /** How often to look at the checkpoint (default 10 ms). */
  pollIntervalMs?: number;
}

/**
 * A reference to a projection's checkpoint, for {@link waitFor} and the query bus.
 *
 * @example
 * ```ts
 * const totals = projectionRef(storeDatabase(store), 'cart_totals');
 * ```
 */
export function projectionRef(db: SqlExecutor, name: string): ProjectionRef {
  if (typeof db !== 'object' || db === null || typeof db.query !== 'function') {
    throw new InvalidArgumentError('db', 'is not a SQL driver', 'Pass the read model database, e.g. storeDatabase(store).');
  }
  return { db, name: requireBoundedString(name, 'name', 100) };
}

/**
 * Read-your-writes: resolves once the projection has applied every event up to `position` (a command's
 * `lastGlobalPosition`). Inline projections are always up to date. Fails fast with `ProjectionFailedError`
 * when the projection is parked on an event at or before `position`, and with `ConsistencyTimeoutError`
 * when time runs out.
 *
 * @example
 * ```ts
 * const r = await handleCommand(store, 'cart-1', cmd, cartDecider);
 * await waitFor(projectionRef(db, 'cart_totals'), r.lastGlobalPosition, { timeoutMs: 2_000 });
 * ```
 */
export async function waitFor(projection: ProjectionRef, position: bigint, options?: WaitForOptions): Promise<void> {
  const ref = requireOptionsObject(projection, 'projection') as Partial<ProjectionRef>;
  if (typeof ref.db?.query !== 'function') {
    throw new InvalidArgumentError('projection', 'is not a projection reference', 'Pass projectionRef(db, name) or projector.ref(name).');
  }
  const name = requireBoundedString(ref.name, 'projection.name', 100);
  if (typeof position !== 'bigint' || position < 0n) {
    throw new InvalidArgumentError('position', `${String(position)} is not a bigint ≥ 0n`, 'Pass a global position such as result.lastGlobalPosition.');
  }
  const o = requireOptionsObject(options, 'options') as WaitForOptions;
  const timeoutMs = o.timeoutMs === undefined ? 5_000 : requirePositiveInt(o.timeoutMs, 'timeoutMs');
  const pollMs = o.pollIntervalMs === undefined ? 10 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await requireRow(ref.db, name);
    if (row.kind === 'inline' || row.position >= position) return;
    if (row.state === 'failed' && row.failedPhase === 'live' && row.failedPosition !== null && row.failedPosition <= position) {
      throw new ProjectionFailedError(name, row.failedEventId ?? '?', row.error ?? 'unknown error');
    }
    if (Date.now() >= deadline) throw new ConsistencyTimeoutError(name, position, row.position, timeoutMs);
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
  }
}
