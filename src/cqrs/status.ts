import type { EventStore } from '../eventstore/types.js';
import { LeaseTable } from '../storage/lease.js';
import type { SqlDriver } from '../storage/port.js';
import { systemClock } from '../support/clock.js';
import { requireOptionsObject } from '../support/validate.js';
import { UnknownProjectionError } from '../errors.js';
import { headPosition } from './head.js';
import { remainingEvents } from './progress.js';
import { readRows, type RegistryRow } from './registry.js';

/** Where a projection stands. */
export interface ProjectionStatus {
  name: string;
  kind: 'async' | 'inline';
  version: number;
  /** Global position of the last event applied (async); inline projections commit with every append. */
  position: bigint;
  state: 'running' | 'catching_up' | 'failed' | 'rebuilding';
  /** Events not yet applied: exact up to 10 000, estimated beyond (null for inline). */
  lagEvents: bigint | null;
  /** Age of the oldest event not yet applied, in ms (0 when caught up; null for inline). */
  lagMs: number | null;
  failed: { eventId: string; position: bigint; error: string; attempts: number; track: 'live' | 'rebuild' } | null;
  rebuild: { version: number; position: bigint; startedAt: number | null } | null;
  lease: { owner: string; fence: bigint; expiresAt: number; held: boolean } | null;
}

/**
 * Position, lag and state of the projections registered in `db` (all, or those named). Works from any
 * process: it reads only the registry, the leases and the store's log.
 *
 * @example
 * ```ts
 * for (const s of await projectionStatus(db, store)) console.log(s.name, s.state, s.lagEvents);
 * ```
 */
export async function projectionStatus(db: SqlDriver, store: EventStore, options?: { names?: string[]; now?: number }): Promise<ProjectionStatus[]> {
  const o = requireOptionsObject(options, 'options') as { names?: string[]; now?: number };
  const rows = await readRows(db);
  const wanted = o.names ?? rows.map((r) => r.name);
  const missing = wanted.find((n) => !rows.some((r) => r.name === n));
  if (missing !== undefined) throw new UnknownProjectionError(missing);
  const now = o.now ?? systemClock.now();
  const head = await headPosition(store, 1n);
  const leases = new LeaseTable(db);
  const result: ProjectionStatus[] = [];
  for (const row of rows.filter((r) => wanted.includes(r.name))) {
    const lease = row.kind === 'async' ? await leases.get(`projection:${row.name}`).catch(() => null) : null;
    result.push({
      name: row.name,
      kind: row.kind,
      version: row.version,
      position: row.position,
      state: stateOf(row, head > row.position),
      lagEvents: row.kind === 'inline' ? null : BigInt(await remainingEvents(store, row.position, 10_000)),
      lagMs: row.kind === 'inline' ? null : await lagMs(store, row.position, now),
      failed:
        row.state === 'failed'
          ? { eventId: row.failedEventId ?? '', position: row.failedPosition ?? 0n, error: row.error ?? '', attempts: row.attempts, track: row.failedPhase ?? 'live' }
          : null,
      rebuild: row.rebuildVersion === null ? null : { version: row.rebuildVersion, position: row.rebuildPosition ?? 0n, startedAt: row.rebuildStartedAt },
      lease: lease === null ? null : { owner: lease.owner, fence: lease.fence, expiresAt: lease.expiresAt, held: lease.expiresAt > now },
    });
  }
  return result;
}

function stateOf(row: RegistryRow, behind: boolean): ProjectionStatus['state'] {
  if (row.state === 'failed') return 'failed';
  if (row.rebuildVersion !== null || row.rebuildRequested) return 'rebuilding';
  return row.kind === 'async' && row.phase === 'catching_up' && behind ? 'catching_up' : 'running';
}

async function lagMs(store: EventStore, position: bigint, now: number): Promise<number> {
  const [next] = await store.readAll({ fromPosition: position + 1n, maxCount: 1 });
  return next === undefined ? 0 : Math.max(0, now - next.recordedAt.getTime());
}
