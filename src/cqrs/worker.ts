import type { EventEmitter } from 'node:events';
import { FencingError, InvalidArgumentError, isTesseraError } from '../errors.js';
import type { EventStore, RecordedEvent, RetryPolicy } from '../eventstore/types.js';
import type { Lease, LeaseTable } from '../storage/lease.js';
import type { SqlDriver } from '../storage/port.js';
import { backoffDelay } from '../support/backoff.js';
import { type Clock, sleep } from '../support/clock.js';
import { ApplyFailure, applyBatch, park, startRebuild, swapRebuild, type Track, type TxContext } from './checkpoint.js';
import { headPosition } from './head.js';
import { progressFigures, remainingEvents } from './progress.js';
import { liveTables, type Projection, shadowTables } from './projection.js';
import { readRow, type RegistryRow } from './registry.js';

/** What every worker of one projector shares. */
export interface WorkerContext {
  store: EventStore;
  db: SqlDriver;
  leases: LeaseTable;
  owner: string;
  leaseMs: number;
  batchSize: number;
  pollIntervalMs: number;
  retry: Required<RetryPolicy>;
  clock: Clock;
  random: () => number;
  events: EventEmitter;
  signal: AbortSignal;
}

/**
 * Runs one async projection: holds its lease, applies batches of the global log with the checkpoint in
 * the same transaction, parks on a poison event after the retries, and performs rebuilds (shadow tables,
 * then an atomic swap). Only the lease holder writes; everything else waits in standby.
 */
export class ProjectionWorker {
  #lease: Lease | null = null;
  #lastRenew = 0;
  // Apply only this many events of a track's next batch: the good ones before a failing event.
  readonly #limit: Record<Track, number | null> = { live: null, rebuild: null };
  #caughtUp = false;
  #failure: { eventId: string; attempts: number } | null = null;
  #rebuildStats: { started: number; processed: number; lastAt: number } | null = null;
  readonly done: Promise<void>;

  constructor(
    private readonly c: WorkerContext,
    private readonly p: Projection,
  ) {
    this.done = this.#run();
  }

  async #run(): Promise<void> {
    let errors = 0;
    while (!this.c.signal.aborted) {
      try {
        const busy = await this.#step();
        errors = 0;
        if (!busy) await sleep(this.c.pollIntervalMs, this.c.signal);
      } catch (error) {
        if (error instanceof FencingError) {
          this.#lease = null;
          this.c.events.emit('fenced', { name: this.p.name, error });
          await sleep(this.c.pollIntervalMs, this.c.signal);
        } else if (error instanceof ApplyFailure) {
          await this.#onApplyFailure(error);
        } else {
          // Lost connection, busy database, a concurrent operator change: back off and start over.
          errors++;
          if (!(isTesseraError(error) && error.code === 'CHECKPOINT_MOVED')) this.c.events.emit('worker-error', { name: this.p.name, error });
          await sleep(backoffDelay({ initialDelayMs: 20, maxDelayMs: 2_000 }, errors, this.c.random), this.c.signal);
        }
      }
    }
    if (this.#lease) await this.c.leases.release(this.#lease).catch(() => undefined);
  }

  #tx(): TxContext {
    return { db: this.c.db, leases: this.c.leases, lease: this.#lease!, leaseMs: this.c.leaseMs, now: this.c.clock.now() };
  }

  /** One unit of work; false when there was nothing to do. */
  async #step(): Promise<boolean> {
    if (this.#lease === null) {
      this.#lease = await this.c.leases.acquire(`projection:${this.p.name}`, this.c.owner, this.c.leaseMs);
      if (this.#lease === null) return false;
      this.#lastRenew = this.c.clock.now();
      this.c.events.emit('acquired', { name: this.p.name, fence: this.#lease.fence });
    }
    const row = await readRow(this.c.db, this.p.name);
    if (row === null) return false;
    if (row.state === 'failed') {
      this.#failure = null; // an operator's retry starts a fresh count
      await this.#renewIfDue();
      return false;
    }
    if (row.version > this.p.version || (row.rebuildVersion ?? 0) > this.p.version) {
      // Newer code runs this projection (a rolling deploy): never rebuild it back; leave the lease to it.
      this.c.events.emit('worker-error', { name: this.p.name, error: new InvalidArgumentError('projection.version', `${this.p.version} is older than the stored version ${Math.max(row.version, row.rebuildVersion ?? 0)}`, 'Stop this old process; the newer one takes over.') });
      await this.c.leases.release(this.#lease);
      this.#lease = null;
      await sleep(this.c.leaseMs, this.c.signal);
      return false;
    }
    const versionChanged = row.version !== this.p.version;
    if (row.rebuildVersion !== null && row.rebuildVersion !== this.p.version) {
      await startRebuild(this.#tx(), this.p, row); // a rebuild for another version of the code: start over
      return true;
    }
    if (row.rebuildVersion === null && (versionChanged || row.rebuildRequested)) {
      const generation = await startRebuild(this.#tx(), this.p, row);
      this.#rebuildStats = null;
      this.c.events.emit('rebuild-started', { name: this.p.name, version: this.p.version, generation });
      return true;
    }
    if (row.rebuildVersion !== null) {
      // The live model keeps up during a same-version rebuild; a new version's code cannot update old tables.
      const live = versionChanged ? false : await this.#batch(row, 'live');
      const shadow = await this.#batch(row, 'rebuild');
      return live || shadow;
    }
    return this.#batch(row, 'live');
  }

  /** Reads and applies one batch on a track; on the rebuild track, swaps when caught up. */
  async #batch(row: RegistryRow, track: Track): Promise<boolean> {
    const from = track === 'live' ? row.position : row.rebuildPosition!;
    const types = this.p.handles ? { types: [...this.p.handles] } : {};
    const read = (): Promise<RecordedEvent[]> => this.c.store.readAll({ fromPosition: from + 1n, maxCount: this.c.batchSize, ...types });
    let page = await read();
    let head: bigint | null = null;
    if (this.p.handles && page.length < this.c.batchSize) {
      // Typed reads skip other events. Near the end of the log, find the head, then read again: every
      // event up to that head is visible to the second read, so the checkpoint may pass the skipped ones.
      head = await headPosition(this.c.store, from + 1n);
      page = await read();
    }
    const full = page.length === this.c.batchSize;
    let events: RecordedEvent[] = page;
    const limit = this.#limit[track];
    if (limit !== null) {
      events = page.slice(0, limit);
      this.#limit[track] = null;
    }
    const last = events[events.length - 1]?.globalPosition ?? from;
    const to = !full && events.length === page.length && head !== null && head > last ? head : last;
    const tables = track === 'live' ? liveTables(this.p) : shadowTables(this.p, row.generation);
    const phase = full ? 'catching_up' : 'running';
    if (to > from || (track === 'live' && phase !== row.phase)) {
      await applyBatch(this.#tx(), this.p, track, tables, events, from, to, phase);
      this.#lastRenew = this.c.clock.now();
      this.#failure = null;
      if (track === 'live') this.#caughtUp = false;
      if (events.length > 0) this.c.events.emit('batch', { name: this.p.name, track, position: to, count: events.length });
      if (track === 'rebuild') await this.#progress(to, events.length);
    }
    if (track === 'rebuild' && !full) {
      const current = { ...row, rebuildPosition: to };
      if (to >= row.position) {
        await swapRebuild(this.#tx(), this.p, current);
        this.c.events.emit('rebuild-swapped', { name: this.p.name, version: this.p.version, position: to });
        return true;
      }
    }
    if (to === from) {
      if (track === 'live' && !full && !this.#caughtUp) this.c.events.emit('caught-up', { name: this.p.name, position: from });
      if (track === 'live') this.#caughtUp = !full;
      await this.#renewIfDue();
      return false;
    }
    return true;
  }

  async #progress(to: bigint, count: number): Promise<void> {
    const now = this.c.clock.now();
    const stats = (this.#rebuildStats ??= { started: now, processed: 0, lastAt: 0 });
    stats.processed += count;
    if (now - stats.lastAt < 1_000) return; // a bounded read per report: at most one report a second
    stats.lastAt = now;
    const remaining = await remainingEvents(this.c.store, to);
    const head = await headPosition(this.c.store, to + 1n);
    const figures = progressFigures(stats.processed, remaining, now - stats.started);
    this.c.events.emit('rebuild-progress', { name: this.p.name, position: to, head, processed: stats.processed, remaining, ...figures });
  }

  async #renewIfDue(): Promise<void> {
    const now = this.c.clock.now();
    if (this.#lease && now - this.#lastRenew >= this.c.leaseMs / 3) {
      await this.c.leases.renew(this.#lease, this.c.leaseMs);
      this.#lastRenew = now;
    }
  }

  async #onApplyFailure(f: ApplyFailure): Promise<void> {
    if (f.index > 0) {
      this.#limit[f.track] = f.index;
      return;
    }
    const retryable = isTesseraError(f.cause) && f.cause.retryable;
    const attempts = retryable ? (this.#failure?.attempts ?? 0) : this.#failure?.eventId === f.event.id ? this.#failure.attempts + 1 : 1;
    this.#failure = { eventId: f.event.id, attempts };
    if (attempts >= this.c.retry.maxAttempts) {
      const track = f.track;
      await park(this.#tx(), this.p, track, f.event, f.cause, attempts).catch((e: unknown) => {
        if (e instanceof FencingError) this.#lease = null;
      });
      this.#failure = null;
      this.c.events.emit('failed', { name: this.p.name, eventId: f.event.id, position: f.event.globalPosition, error: f.cause, track });
      return;
    }
    this.c.events.emit('retrying', { name: this.p.name, eventId: f.event.id, attempt: attempts, error: f.cause });
    await sleep(backoffDelay(this.c.retry, attempts, this.c.random), this.c.signal);
  }
}
