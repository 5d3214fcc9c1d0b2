import { InvalidArgumentError } from '../errors.js';
import { openPostgresEventStore } from '../eventstore/postgres/open.js';
import { openSqliteEventStore } from '../eventstore/sqlite/open.js';
import type { EventStore, Upcaster } from '../eventstore/types.js';
import type { SqlExecutor } from '../storage/port.js';
import type { Clock } from '../support/clock.js';
import { requireOptionsObject } from '../support/validate.js';

/**
 * Where a log-shipping follower writes: a SQLite file (an edge replica) or a PostgreSQL schema.
 *
 * @example
 * ```ts
 * const target: FollowerTarget = { path: './edge/orders.db' };
 * const pgTarget: FollowerTarget = { connectionString: 'postgres://postgres@10.0.0.9/app', schema: 'orders_copy' };
 * ```
 */
export type FollowerTarget = { path: string } | { connectionString: string; schema?: string };

/**
 * A clock the follower sets to each copied event's source `recordedAt` just before appending it, so the
 * copy keeps the source's timestamps; it reads the wall clock when nothing is being copied.
 */
export class CopyClock implements Clock {
  #at: number | null = null;

  now(): number {
    return this.#at ?? Date.now();
  }

  /** Runs `fn` with the clock pinned to `at`. */
  async pinned<T>(at: number, fn: () => Promise<T>): Promise<T> {
    this.#at = at;
    try {
      return await fn();
    } finally {
      this.#at = null;
    }
  }
}

/** Validates a target and opens its store with the follower's clock. */
export async function openFollowerTarget(target: unknown, clock: CopyClock, upcasters: Upcaster[] | undefined): Promise<EventStore> {
  const t = requireOptionsObject(target, 'target') as Partial<{ path: unknown; connectionString: unknown; schema: unknown }>;
  const common = { clock, ...(upcasters ? { upcasters } : {}) };
  if (typeof t.path === 'string' && t.path.length > 0 && t.path !== ':memory:') {
    return openSqliteEventStore({ ...common, path: t.path });
  }
  if (typeof t.connectionString === 'string' && t.connectionString.length > 0) {
    return openPostgresEventStore({ ...common, connectionString: t.connectionString, ...(t.schema === undefined ? {} : { schema: t.schema as string }) });
  }
  throw new InvalidArgumentError(
    'target',
    'is neither { path } (a SQLite file) nor { connectionString, schema? }',
    "Pass target: { path: './edge/events.db' } or { connectionString: 'postgres://…', schema: 'copy' }.",
  );
}

/** The checkpoint table, created in the target's own database (both dialects accept this SQL). */
export const CHECKPOINT_DDL = `CREATE TABLE IF NOT EXISTS tessera_follower_checkpoints (
  name            TEXT   PRIMARY KEY,
  source_position BIGINT NOT NULL,
  copied          BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
)`;

/**
 * A follower's durable progress.
 * @example
 * ```ts
 * const { sourcePosition, copied }: FollowerCheckpoint = await follower.checkpoint();
 * ```
 */
export interface FollowerCheckpoint {
  /** Last source global position copied (`0n` before the first). Resume reads from `sourcePosition + 1n`. */
  sourcePosition: bigint;
  /** Events copied so far. */
  copied: bigint;
  /** When the checkpoint last moved (ms since epoch; 0 before the first batch). */
  updatedAt: number;
}

/** Reads the checkpoint named `name` (zeros when absent). */
export async function readCheckpoint(db: SqlExecutor, name: string): Promise<FollowerCheckpoint> {
  const [row] = await db.query<{ source_position: bigint | number | string; copied: bigint | number | string; updated_at: bigint | number | string }>(
    'SELECT source_position, copied, updated_at FROM tessera_follower_checkpoints WHERE name = ?',
    [name],
  );
  if (row === undefined) return { sourcePosition: 0n, copied: 0n, updatedAt: 0 };
  return { sourcePosition: BigInt(row.source_position), copied: BigInt(row.copied), updatedAt: Number(row.updated_at) };
}

/**
 * Moves the checkpoint from `from` to `to`, inside the batch's transaction. The `WHERE` on the old position
 * is the fence: a second follower on the same target and name makes this update change no row.
 * @returns false when the stored checkpoint was not at `from`.
 */
export async function moveCheckpoint(tx: SqlExecutor, name: string, from: FollowerCheckpoint, to: FollowerCheckpoint): Promise<boolean> {
  if (from.updatedAt === 0 && from.copied === 0n) {
    const { changes } = await tx.run(
      'INSERT INTO tessera_follower_checkpoints (name, source_position, copied, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      [name, to.sourcePosition, to.copied, to.updatedAt],
    );
    return changes === 1;
  }
  const { changes } = await tx.run(
    'UPDATE tessera_follower_checkpoints SET source_position = ?, copied = ?, updated_at = ? WHERE name = ? AND source_position = ? AND copied = ?',
    [to.sourcePosition, to.copied, to.updatedAt, name, from.sourcePosition, from.copied],
  );
  return changes === 1;
}
