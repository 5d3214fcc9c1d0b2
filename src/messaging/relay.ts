import { hostname } from 'node:os';
import { InvalidArgumentError, isTesseraError } from '../errors.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { type Lease, LeaseTable } from '../storage/lease.js';
import { runMigrations } from '../storage/migrations.js';
import type { SqlDriver } from '../storage/port.js';
import { backoffDelay } from '../support/backoff.js';
import { sleep } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { validateName } from './subjects.js';
import type { EventBus } from './types.js';

/**
 * Options of {@link startOutboxRelay}.
 *
 * @example
 * ```ts
 * const options: OutboxRelayOptions = { store, bus, name: 'orders', leaseMs: 10_000 };
 * ```
 */
export interface OutboxRelayOptions {
  store: EventStore;
  bus: EventBus;
  /** Names the checkpoint and the lease (default `default`); relays with one name share the work. */
  name?: string;
  /** This process's identity in the lease table (default host:pid:random). */
  owner?: string;
  /** Events read and published per round (default 500). */
  batchSize?: number;
  /** Lease time to live; a relay that stops renewing is replaced after it (default 15 s). */
  leaseMs?: number;
  /** Pause when the log has nothing new (default 50 ms). */
  pollIntervalMs?: number;
  /** Failures the relay recovers from (bus down, lease lost); default: ignored. */
  onError?: (e: unknown) => void;
}

const MIGRATIONS = [
  {
    version: 1,
    name: 'relay checkpoints',
    sql: 'CREATE TABLE IF NOT EXISTS tessera_relay_checkpoints (name TEXT PRIMARY KEY, position BIGINT NOT NULL, updated_at BIGINT NOT NULL)',
  },
];

/**
 * The outbox relay: the event store is the outbox. The relay reads the global log (gap-safe `readAll`
 * pages) from a checkpoint kept in the store's own database, publishes each page in global order (so each
 * stream's order is kept), and advances the checkpoint only past events the bus acknowledged. Nothing
 * ever writes to the database and the bus as two separate steps: a crash re-publishes at most the
 * unacknowledged tail, which the bus deduplicates by event id. Relays with the same name in several
 * processes coordinate through a lease with a fencing token: one publishes, the others stand by, and a
 * checkpoint write by a holder that lost the lease is refused.
 *
 * @example
 * ```ts
 * const relay = await startOutboxRelay({ store, bus: await openEventBus(process.env.TESSERA_BUS) });
 * // … later
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  #position = 0n;
  #lease: Lease | null = null;
  #renewedAt = 0;
  #stopped = false;
  readonly #wake = new AbortController();
  readonly done: Promise<void>;

  private constructor(
    private readonly db: SqlDriver,
    private readonly leases: LeaseTable,
    private readonly cfg: Required<Omit<OutboxRelayOptions, 'onError'>> & { onError: (e: unknown) => void },
  ) {
    this.done = this.#run();
    this.done.catch(() => undefined);
  }

  /** Validates the options, creates the checkpoint and lease tables if needed, and starts relaying. */
  static async start(options: OutboxRelayOptions): Promise<OutboxRelay> {
    const o = requireOptionsObject(options, 'options') as Partial<OutboxRelayOptions>;
    if (o.store === undefined) throw new InvalidArgumentError('store', 'is missing', 'Pass startOutboxRelay({ store, bus }).');
    const db = storeDatabase(o.store);
    const bus = o.bus;
    if (typeof bus !== 'object' || bus === null || typeof bus.publishAll !== 'function') {
      throw new InvalidArgumentError('bus', 'is not an event bus', 'Pass a bus from openEventBus() or new InProcessEventBus().');
    }
    const name = validateName(o.name ?? 'default', 'name');
    const cfg = {
      store: o.store,
      bus,
      name,
      owner: o.owner === undefined ? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}` : requireBoundedString(o.owner, 'owner', 256),
      batchSize: o.batchSize === undefined ? 500 : requirePositiveInt(o.batchSize, 'batchSize'),
      leaseMs: o.leaseMs === undefined ? 15_000 : requirePositiveInt(o.leaseMs, 'leaseMs'),
      pollIntervalMs: o.pollIntervalMs === undefined ? 50 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs'),
      onError: o.onError ?? ((): void => undefined),
    };
    await runMigrations(db, 'tessera_relay_migrations', MIGRATIONS);
    await db.run('INSERT INTO tessera_relay_checkpoints (name, position, updated_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING', [name, Date.now()]);
    const leases = new LeaseTable(db);
    await leases.ensureSchema();
    return new OutboxRelay(db, leases, cfg);
  }

  /** Global position of the last event this relay saw acknowledged (its view of the checkpoint). */
  get position(): bigint {
    return this.#position;
  }

  /** True while this relay holds the lease and publishes. */
  get isLeader(): boolean {
    return this.#lease !== null;
  }

  /** The stored checkpoint (shared by every relay of this name). */
  async checkpoint(): Promise<bigint> {
    const [row] = await this.db.query<{ position: unknown }>('SELECT position FROM tessera_relay_checkpoints WHERE name = ?', [this.cfg.name]);
    return row === undefined ? 0n : BigInt(row.position as string | number | bigint);
  }

  /** Resolves once the stored checkpoint reaches `position`; false if `timeoutMs` passed first. */
  async waitForCheckpoint(position: bigint, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + requirePositiveInt(timeoutMs, 'timeoutMs');
    while ((await this.checkpoint()) < position) {
      if (Date.now() >= deadline) return false;
      await sleep(20);
    }
    return true;
  }

  /** Stops after the round in flight and releases the lease so another relay takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    await this.done;
  }

  async #run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.#stopped) {
        try {
          const busy = await this.#round();
          failures = 0;
          if (!busy) await sleep(this.#lease === null ? Math.min(1_000, Math.ceil(this.cfg.leaseMs / 3)) : this.cfg.pollIntervalMs, this.#wake.signal);
        } catch (e) {
          if (isTesseraError(e, 'LEASE_FENCED')) this.#lease = null;
          this.cfg.onError(e);
          await sleep(backoffDelay({ initialDelayMs: 100, maxDelayMs: 3_000 }, ++failures), this.#wake.signal);
        }
      }
    } finally {
      if (this.#lease !== null) await this.leases.release(this.#lease).catch(() => undefined);
      this.#lease = null;
    }
  }

  /**
   * One round: hold the lease, publish the next page, advance the checkpoint. True when the page was full
   * (more is waiting): a caught-up relay pauses `pollIntervalMs` so the next round carries a batch, rather
   * than a checkpoint commit per append competing with the writers.
   */
  async #round(): Promise<boolean> {
    if (!(await this.#holdLease())) return false;
    const from = await this.checkpoint();
    this.#position = from;
    const page = await this.cfg.store.readAll({ fromPosition: from + 1n, maxCount: this.cfg.batchSize });
    if (page.length === 0) return false;
    const result = await this.cfg.bus.publishAll(page);
    const last = page[result.acks.length - 1];
    if (last !== undefined) {
      const lease = this.#lease!;
      await this.db.transaction(async (tx) => {
        // Refused (and rolled back) if another relay took the lease over meanwhile.
        await this.leases.guard(tx, lease, this.cfg.leaseMs);
        await tx.run('UPDATE tessera_relay_checkpoints SET position = ?, updated_at = ? WHERE name = ? AND position < ?', [
          last.globalPosition,
          Date.now(),
          this.cfg.name,
          last.globalPosition,
        ]);
      });
      this.#renewedAt = Date.now();
      this.#position = last.globalPosition;
    }
    if (result.error !== undefined) throw result.error;
    return page.length === this.cfg.batchSize;
  }

  async #holdLease(): Promise<boolean> {
    const key = `relay:${this.cfg.name}`;
    if (this.#lease === null) {
      this.#lease = await this.leases.acquire(key, this.cfg.owner, this.cfg.leaseMs);
      this.#renewedAt = Date.now();
      return this.#lease !== null;
    }
    if (Date.now() - this.#renewedAt > this.cfg.leaseMs / 3) {
      await this.leases.renew(this.#lease, this.cfg.leaseMs);
      this.#renewedAt = Date.now();
    }
    return true;
  }
}

/**
 * Starts an {@link OutboxRelay} from the store's global log to the bus.
 *
 * @example
 * ```ts
 * const relay = await startOutboxRelay({ store, bus, name: 'orders', batchSize: 1000 });
 * await relay.waitForCheckpoint(lastPosition, 10_000);
 * ```
 */
export function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  return OutboxRelay.start(options);
}
