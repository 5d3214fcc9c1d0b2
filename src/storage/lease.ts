import { FencingError } from '../errors.js';
import { InvalidArgumentError } from '../errors.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { runMigrations } from './migrations.js';
import type { SqlDriver, SqlExecutor } from './port.js';

/** A held lease. `fence` grows by one on every acquisition, so a former holder's token is refused. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly fence: bigint;
}

/** The stored state of a lease (held or not). */
export interface LeaseInfo {
  name: string;
  owner: string;
  fence: bigint;
  /** Milliseconds since epoch; the lease is free from then on. */
  expiresAt: number;
}

/** Options of {@link LeaseTable}. */
export interface LeaseTableOptions {
  /** Table name (default `tessera_leases`). */
  table?: string;
  clock?: Clock;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Leases with fencing tokens in a SQL table, on SQLite and PostgreSQL alike: one holder per name at a
 * time; a holder that stops renewing loses the lease when it expires, and whoever acquires it next gets a
 * higher `fence`. Writes that must only come from the current holder call {@link LeaseTable.guard} inside
 * their transaction: it changes the lease row only while the fence is unchanged, else throws
 * {@link FencingError} and the transaction rolls back. A paused process that wakes up after a takeover
 * therefore cannot write, whatever its own clock says.
 *
 * @example
 * ```ts
 * const leases = new LeaseTable(db);
 * await leases.ensureSchema();
 * const lease = await leases.acquire('projection:cart_totals', 'worker-1', 10_000);
 * if (lease) await db.transaction(async (tx) => {
 *   await leases.guard(tx, lease, 10_000);           // refuses the write if another holder took over
 *   await tx.run('UPDATE checkpoints SET position = ? WHERE name = ?', [42, 'cart_totals']);
 * });
 * ```
 */
export class LeaseTable {
  readonly table: string;
  readonly #clock: Clock;

  constructor(
    private readonly db: SqlDriver,
    options?: LeaseTableOptions,
  ) {
    const o = requireOptionsObject(options, 'options') as LeaseTableOptions;
    this.table = o.table ?? 'tessera_leases';
    if (!IDENT.test(this.table)) {
      throw new InvalidArgumentError('table', `"${this.table}" is not a plain SQL identifier`, 'Use letters, digits and underscores, e.g. tessera_leases.');
    }
    this.#clock = o.clock ?? systemClock;
  }

  /** Creates the table if needed (safe to call from several processes at once). */
  async ensureSchema(): Promise<void> {
    await runMigrations(this.db, `${this.table}_migrations`, [
      {
        version: 1,
        name: 'leases',
        sql: `CREATE TABLE IF NOT EXISTS ${this.table} (
          name TEXT PRIMARY KEY, owner TEXT NOT NULL, fence BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
      },
    ]);
  }

  /** Takes the lease if it is free or expired; null when someone else holds it. */
  async acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    requireBoundedString(name, 'name', 256);
    requireBoundedString(owner, 'owner', 256);
    requirePositiveInt(ttlMs, 'ttlMs');
    const now = this.#clock.now();
    const rows = await this.db.query<{ fence: unknown }>(
      `INSERT INTO ${this.table} (name, owner, fence, expires_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, fence = ${this.table}.fence + 1, expires_at = excluded.expires_at
       WHERE ${this.table}.expires_at <= ?
       RETURNING fence`,
      [name, owner, now + ttlMs, now],
    );
    const row = rows[0];
    return row === undefined ? null : { name, owner, fence: BigInt(row.fence as string | number | bigint) };
  }

  /**
   * Refuses the surrounding transaction unless `lease` is still current, and extends it by `ttlMs` when
   * given. Call it inside the transaction whose writes the lease protects.
   */
  async guard(tx: SqlExecutor, lease: Lease, ttlMs?: number): Promise<void> {
    const { changes } =
      ttlMs === undefined
        ? await tx.run(`UPDATE ${this.table} SET fence = fence WHERE name = ? AND fence = ?`, [lease.name, lease.fence])
        : await tx.run(`UPDATE ${this.table} SET expires_at = ? WHERE name = ? AND fence = ?`, [this.#clock.now() + ttlMs, lease.name, lease.fence]);
    if (changes !== 1) throw new FencingError(lease.name, lease.fence);
  }

  /** Extends the lease; throws {@link FencingError} if it was taken over. */
  async renew(lease: Lease, ttlMs: number): Promise<void> {
    requirePositiveInt(ttlMs, 'ttlMs');
    await this.guard(this.db, lease, ttlMs);
  }

  /** Frees the lease at once (no-op if it was already taken over). */
  async release(lease: Lease): Promise<void> {
    await this.db.run(`UPDATE ${this.table} SET expires_at = 0 WHERE name = ? AND fence = ?`, [lease.name, lease.fence]);
  }

  /** The stored state of a lease, or null if it was never taken. */
  async get(name: string): Promise<LeaseInfo | null> {
    const [row] = await this.db.query<{ owner: string; fence: unknown; expires_at: unknown }>(
      `SELECT owner, fence, expires_at FROM ${this.table} WHERE name = ?`,
      [name],
    );
    return row === undefined
      ? null
      : { name, owner: row.owner, fence: BigInt(row.fence as string | number | bigint), expiresAt: Number(row.expires_at) };
  }
}

