import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore, RetryPolicy } from '../eventstore/types.js';
import { LeaseTable } from '../storage/lease.js';
import type { SqlDriver } from '../storage/port.js';
import { type Clock, systemClock } from '../support/clock.js';
import { uuidV7 } from '../support/ids.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { requestRebuild } from './admin.js';
import { type Projection, requireProjection } from './projection.js';
import { ensureRegistry, readRow, registerProjection } from './registry.js';
import { type ProjectionStatus, projectionStatus } from './status.js';
import { type ProjectionRef, waitFor, type WaitForOptions } from './wait.js';
import { ProjectionWorker } from './worker.js';

/** Options of {@link startProjector}. */
export interface ProjectorOptions {
  store: EventStore;
  projections: Projection[];
  /** Where the read models and checkpoints live (default: the store's own database). Any SqlDriver. */
  db?: SqlDriver;
  /** This instance's name in the leases (default host:pid:random). */
  owner?: string;
  /** Lease time-to-live; another process takes over this long after a crash (default 10 000 ms). */
  leaseMs?: number;
  /** Events per transaction (default 500). */
  batchSize?: number;
  /** How often an idle projector looks for new events (default 100 ms). */
  pollIntervalMs?: number;
  /** Attempts on a failing event before the projection parks in `failed` (default 3, 100 ms → 5 s). */
  retry?: RetryPolicy;
  clock?: Clock;
  random?: () => number;
}

/**
 * Runs async projections (create it with {@link startProjector}). Events it emits: `acquired`, `batch`,
 * `caught-up`, `retrying`, `failed`, `fenced` (the lease was taken over; the refused write is in `error`),
 * `rebuild-started`, `rebuild-progress` (a `RebuildProgress`), `rebuild-swapped`, `worker-error`.
 *
 * @example
 * ```ts
 * const projector = await startProjector({ store, projections: [cartTotals] });
 * projector.events.on('rebuild-progress', (p) => console.log(`${p.percent}% ETA ${p.etaMs} ms`));
 * await projector.rebuild('cart_totals');
 * console.table(await projector.status());
 * ```
 */
export class Projector {
  readonly events = new EventEmitter();
  readonly #abort = new AbortController();
  #workers: ProjectionWorker[] = [];

  constructor(
    readonly store: EventStore,
    readonly db: SqlDriver,
    readonly projections: readonly Projection[],
  ) {}

  /** @internal */
  start(workers: ProjectionWorker[]): void {
    this.#workers = workers;
  }

  /** @internal */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The checkpoint reference of one of this projector's projections (for `waitFor` and the query bus). */
  ref(name: string): ProjectionRef {
    this.#require(name);
    return { db: this.db, name };
  }

  /** Read-your-writes: resolves once `name` has applied everything up to `position`. */
  async waitFor(name: string, position: bigint, options?: WaitForOptions): Promise<void> {
    return waitFor(this.ref(name), position, options);
  }

  /** Position, lag and state of this projector's projections. */
  async status(): Promise<ProjectionStatus[]> {
    return projectionStatus(this.db, this.store, { names: this.projections.map((p) => p.name) });
  }

  /** Asks for a rebuild of `name` (the lease holder replays into shadow tables, then swaps them in). */
  async rebuild(name: string): Promise<void> {
    this.#require(name);
    await requestRebuild(this.db, name);
  }

  /** Stops every worker and releases its leases; the read-model database and the store stay open. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#workers.map((w) => w.done));
  }

  #require(name: string): void {
    if (!this.projections.some((p) => p.name === name)) {
      throw new InvalidArgumentError('name', `"${name}" is not one of this projector's projections`, `Use one of: ${this.projections.map((p) => p.name).join(', ')}.`);
    }
  }
}

/**
 * Starts async projections: each reads the store's global log in batches and writes its read model and
 * checkpoint in one transaction, so a crash never applies an event twice or skips one. One process at a
 * time runs a projection (a lease with a fencing token); others stand by and take over when it expires.
 *
 * @example
 * ```ts
 * const projector = await startProjector({ store, projections: [cartTotals] });
 * projector.events.on('failed', (f) => console.error('parked', f.name, f.eventId));
 * const r = await handleCommand(store, 'cart-1', cmd, cartDecider);
 * await projector.waitFor('cart_totals', r.lastGlobalPosition);
 * await projector.stop();
 * ```
 */
export async function startProjector(options: ProjectorOptions): Promise<Projector> {
  const o = requireOptionsObject(options, 'options') as Partial<ProjectorOptions>;
  if (typeof o.store?.readAll !== 'function') {
    throw new InvalidArgumentError('store', 'is not an event store', 'Pass startProjector({ store, projections }).');
  }
  if (!Array.isArray(o.projections) || o.projections.length === 0) {
    throw new InvalidArgumentError('projections', 'must be a non-empty array', 'Pass projections: [projection({ … })].');
  }
  const projections = o.projections.map((p, i) => requireProjection(p, `projections[${i}]`));
  if (new Set(projections.map((p) => p.name)).size !== projections.length) {
    throw new InvalidArgumentError('projections', 'contains a name twice', 'Give every projection a unique name.');
  }
  const db = o.db ?? storeDatabase(o.store);
  const clock = o.clock ?? systemClock;
  const leaseMs = o.leaseMs === undefined ? 10_000 : requirePositiveInt(o.leaseMs, 'leaseMs');
  const retry = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 5_000, ...requireOptionsObject(o.retry, 'retry') };
  requirePositiveInt(retry.maxAttempts, 'retry.maxAttempts');
  const leases = new LeaseTable(db, { clock });
  await ensureRegistry(db);
  await leases.ensureSchema();
  for (const p of projections) {
    await db.transaction((tx) => registerProjection(tx, p, 'async', clock.now()));
    const row = await readRow(db, p.name);
    if (row?.kind !== 'async') {
      throw new InvalidArgumentError('projections', `"${p.name}" is registered here as an ${row?.kind} projection`, 'Use another name, or run it inline only.');
    }
    if (row.version > p.version) {
      throw new InvalidArgumentError('projections', `"${p.name}" is stored at version ${row.version}, newer than this code's ${p.version}`, 'Run the newest code, or bump the version.');
    }
  }
  const projector = new Projector(o.store, db, projections);
  const context = {
    store: o.store,
    db,
    leases,
    owner: o.owner ?? `${hostname()}:${process.pid}:${uuidV7().slice(-8)}`,
    leaseMs,
    batchSize: o.batchSize === undefined ? 500 : requirePositiveInt(o.batchSize, 'batchSize'),
    pollIntervalMs: o.pollIntervalMs === undefined ? 100 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs'),
    retry,
    clock,
    random: o.random ?? Math.random,
    events: projector.events,
    signal: projector.signal,
  };
  projector.start(projections.map((p) => new ProjectionWorker(context, p)));
  return projector;
}
