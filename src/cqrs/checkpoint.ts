import { TesseraError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { Lease, LeaseTable } from '../storage/lease.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { PostgresDatabase } from '../storage/postgres.js';
import { handlesEvent, type Projection, shadowTables, type TableNames } from './projection.js';
import { REGISTRY_TABLE, type RegistryRow } from './registry.js';

/**
 * The transactions of an async projection. Each one starts with the lease guard (refused after a
 * takeover) and ends with a checkpoint update conditioned on the position it started from, so a batch is
 * applied exactly once: its read-model writes and its checkpoint commit together or not at all.
 * @module
 */

/** An event's `apply` threw; `index` is its place in the batch (the events before it are fine). */
export class ApplyFailure extends Error {
  constructor(
    readonly index: number,
    readonly event: RecordedEvent,
    override readonly cause: unknown,
    readonly track: Track,
  ) {
    super(`apply failed on event ${event.id}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Someone else (an operator's skip) moved the checkpoint since the worker read it: reload and go on. */
export class CheckpointMoved extends TesseraError {
  constructor(name: string) {
    super('CHECKPOINT_MOVED', `The checkpoint of projection "${name}" moved during a batch`, { retryable: true });
  }
}

/** Everything a transaction needs. */
export interface TxContext {
  db: SqlDriver;
  leases: LeaseTable;
  lease: Lease;
  leaseMs: number;
  now: number;
}

/** Which checkpoint a batch moves: the live one, or the rebuild's shadow one. */
export type Track = 'live' | 'rebuild';

/**
 * Applies `events` (of which `apply` sees only the handled ones) and moves the `track` checkpoint from
 * `from` to `to` (≥ the last event's position) in one transaction.
 */
export async function applyBatch(
  c: TxContext,
  p: Projection,
  track: Track,
  tables: TableNames<string>,
  events: RecordedEvent[],
  from: bigint,
  to: bigint,
  phase: 'running' | 'catching_up',
): Promise<void> {
  await batchTransaction(c.db, async (tx) => {
    await c.leases.guard(tx, c.lease, c.leaseMs);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (!handlesEvent(p, e.type)) continue;
      try {
        // A synchronous apply (or one that returns a settled value) costs no promise hop per event.
        const applied = p.apply(e, tx, tables);
        if (applied instanceof Promise) await applied;
      } catch (error) {
        throw new ApplyFailure(i, e, error, track);
      }
    }
    const sql =
      track === 'live'
        ? `UPDATE ${REGISTRY_TABLE} SET position = ?, phase = ?, attempts = 0, updated_at = ? WHERE name = ? AND position = ? AND state = 'running'`
        : `UPDATE ${REGISTRY_TABLE} SET rebuild_position = ?, phase = ?, attempts = 0, updated_at = ?, rebuild_applied = rebuild_applied + ${events.length} WHERE name = ? AND rebuild_position = ? AND state = 'running'`;
    const { changes } = await tx.run(sql, [to, phase, c.now, p.name, from]);
    if (changes !== 1) throw new CheckpointMoved(p.name);
  });
}

/**
 * A batch's transaction. On PostgreSQL every `apply` is a round trip, and the same few statements run for
 * thousands of events: they go as named prepared statements, parsed and planned once per connection.
 */
function batchTransaction(db: SqlDriver, fn: (tx: SqlExecutor) => Promise<void>): Promise<void> {
  return db instanceof PostgresDatabase ? db.transaction(fn, { prepareWrites: true }) : db.transaction(fn);
}

/** Parks the projection on a poison event until an operator retries or skips it. */
export async function park(c: TxContext, p: Projection, track: Track, event: RecordedEvent, error: unknown, attempts: number): Promise<void> {
  const message = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
  await c.db.transaction(async (tx) => {
    await c.leases.guard(tx, c.lease, c.leaseMs);
    await tx.run(
      `UPDATE ${REGISTRY_TABLE} SET state = 'failed', failed_event_id = ?, failed_position = ?, failed_phase = ?, error = ?, attempts = ?, updated_at = ? WHERE name = ?`,
      [event.id, event.globalPosition, track, message, attempts, c.now, p.name],
    );
  });
}

/** Starts a rebuild: creates the shadow tables of a new generation and resets the shadow checkpoint. */
export async function startRebuild(c: TxContext, p: Projection, row: RegistryRow): Promise<number> {
  const generation = row.generation + 1;
  await c.db.transaction(async (tx) => {
    await c.leases.guard(tx, c.lease, c.leaseMs);
    // An abandoned rebuild (of another version) leaves shadow tables behind: drop them first.
    if (row.rebuildVersion !== null) await dropTables(tx, row.tables.map((t) => `${t}__b${row.generation}`));
    const shadow = shadowTables(p, generation);
    await dropTables(tx, Object.values(shadow));
    await p.setup(tx, shadow);
    await tx.run(
      `UPDATE ${REGISTRY_TABLE} SET generation = ?, rebuild_version = ?, rebuild_position = 0, rebuild_applied = 0, rebuild_requested = 0, rebuild_started_at = ?, updated_at = ? WHERE name = ?`,
      [generation, p.version, c.now, c.now, p.name],
    );
  });
  return generation;
}

/**
 * Swaps a caught-up rebuild in: drops the live tables and renames the shadow ones in their place, in one
 * transaction, so readers see either the old model or the complete new one.
 */
export async function swapRebuild(c: TxContext, p: Projection, row: RegistryRow): Promise<void> {
  await c.db.transaction(async (tx) => {
    await c.leases.guard(tx, c.lease, c.leaseMs);
    const shadow = shadowTables(p, row.generation);
    // Tables the old version had but the new one dropped go too.
    await dropTables(tx, [...new Set([...row.tables, ...p.tables])]);
    for (const t of p.tables) await tx.exec(`ALTER TABLE ${shadow[t]} RENAME TO ${t}`);
    const { changes } = await tx.run(
      `UPDATE ${REGISTRY_TABLE} SET version = rebuild_version, position = rebuild_position, tables = ?, phase = 'running',
         rebuild_version = NULL, rebuild_position = NULL, rebuild_started_at = NULL, updated_at = ?
       WHERE name = ? AND rebuild_position = ? AND state = 'running'`,
      [JSON.stringify(p.tables), c.now, p.name, row.rebuildPosition],
    );
    if (changes !== 1) throw new CheckpointMoved(p.name);
  });
}

async function dropTables(tx: SqlExecutor, tables: string[]): Promise<void> {
  for (const t of tables) await tx.exec(`DROP TABLE IF EXISTS ${t}`);
}
