import { InvalidArgumentError } from '../errors.js';
import type { SqlDriver } from '../storage/port.js';
import { requireBoundedString } from '../support/validate.js';
import { REGISTRY_TABLE, requireRow } from './registry.js';

/**
 * Operator actions on projections. They change only the registry row; the projector holding the lease
 * picks the change up on its next step, so they work from any process (the CLI, an admin endpoint).
 * @module
 */

/**
 * Un-parks a failed projection: the projector tries the failing event again, with fresh attempts.
 *
 * @example
 * ```ts
 * await retryProjection(db, 'cart_totals');
 * ```
 */
export async function retryProjection(db: SqlDriver, name: string): Promise<void> {
  const row = await requireRow(db, requireBoundedString(name, 'name', 100));
  const { changes } = await db.run(
    `UPDATE ${REGISTRY_TABLE} SET state = 'running', failed_event_id = NULL, failed_position = NULL, failed_phase = NULL, error = NULL, attempts = 0
     WHERE name = ? AND state = 'failed'`,
    [row.name],
  );
  if (changes !== 1) throw notFailed(name);
}

/**
 * Passes over the event a failed projection is parked on (it is never applied) and resumes after it.
 * Returns the skipped event's id and position.
 *
 * @example
 * ```ts
 * const { eventId } = await skipProjection(db, 'cart_totals');
 * ```
 */
export async function skipProjection(db: SqlDriver, name: string): Promise<{ eventId: string; position: bigint }> {
  const row = await requireRow(db, requireBoundedString(name, 'name', 100));
  if (row.state !== 'failed' || row.failedPosition === null) throw notFailed(name);
  const column = row.failedPhase === 'rebuild' ? 'rebuild_position' : 'position';
  const { changes } = await db.run(
    `UPDATE ${REGISTRY_TABLE} SET ${column} = ?, state = 'running', failed_event_id = NULL, failed_position = NULL, failed_phase = NULL, error = NULL, attempts = 0
     WHERE name = ? AND state = 'failed' AND failed_position = ?`,
    [row.failedPosition, row.name, row.failedPosition],
  );
  if (changes !== 1) throw notFailed(name);
  return { eventId: row.failedEventId ?? '', position: row.failedPosition };
}

/**
 * Asks for a rebuild: the projector replays the whole log into shadow tables and swaps them in when
 * caught up; readers keep the current tables until then. Follow it with {@link watchRebuild}.
 *
 * @example
 * ```ts
 * await requestRebuild(db, 'cart_totals');
 * ```
 */
export async function requestRebuild(db: SqlDriver, name: string): Promise<void> {
  const row = await requireRow(db, requireBoundedString(name, 'name', 100));
  if (row.kind !== 'async') {
    throw new InvalidArgumentError('name', `"${name}" is an inline projection`, 'Only async projections are rebuilt by a projector.');
  }
  const { changes } = await db.run(
    `UPDATE ${REGISTRY_TABLE} SET rebuild_requested = 1 WHERE name = ? AND rebuild_version IS NULL AND rebuild_requested = 0`,
    [row.name],
  );
  if (changes !== 1) {
    throw new InvalidArgumentError('name', `"${name}" is already rebuilding`, 'Wait for the running rebuild to swap in (tessera projections list).');
  }
}


function notFailed(name: string): InvalidArgumentError {
  return new InvalidArgumentError('name', `projection "${name}" is not parked in failed`, 'Only a failed projection can be retried or skipped (tessera projections list).');
}
