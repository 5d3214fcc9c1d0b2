import { FollowerCheckpointConflictError, InvalidArgumentError, StoreClosedError } from '../errors.js';
import { MAX_EVENTS_PER_APPEND } from '../eventstore/validation.js';
import { storeDatabase, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { EventStore, NewEvent, RecordedEvent, Upcaster } from '../eventstore/types.js';
import { type Clock, sleep, systemClock } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import {
  CHECKPOINT_DDL,
  CopyClock,
  type FollowerCheckpoint,
  type FollowerTarget,
  moveCheckpoint,
  openFollowerTarget,
  readCheckpoint,
} from './follower-target.js';

/**
 * Options of {@link openLogShippingFollower}.
 * @example
 * ```ts
 * const options: LogShippingFollowerOptions = { source, target: { path: './edge.db' }, batchSize: 2_000 };
 * ```
 */
export interface LogShippingFollowerOptions {
  /** The store whose global log is copied (any Tessera store; PostgreSQL reads are gap-safe). */
  source: EventStore;
  /** Where the copy lives; the follower opens (and owns) this store. */
  target: FollowerTarget;
  /** Checkpoint name, so several sources can ship into one target (default `'default'`). */
  name?: string;
  /** Source events copied per target transaction (default 1000, at most 10,000). */
  batchSize?: number;
  /** How often `start()` looks for new source events once caught up (default 200 ms). */
  pollIntervalMs?: number;
  /** The source's upcasters, so copied events carry the same schema versions as the source reads them. */
  upcasters?: Upcaster[];
  /** Time source for checkpoint timestamps (default wall clock). */
  clock?: Clock;
}

/**
 * What one {@link LogShippingFollower.catchUp} did.
 * @example
 * ```ts
 * const { copied, checkpoint }: CatchUpResult = await follower.catchUp();
 * ```
 */
export interface CatchUpResult {
  /** Events copied by this call. */
  copied: number;
  /** The checkpoint after the call. */
  checkpoint: FollowerCheckpoint;
}

/**
 * A log-shipping follower: copies a store's global log, in order, into a target store, batch by batch,
 * each batch and its checkpoint in one target transaction. A kill at any moment leaves the target at a
 * batch boundary; the next run resumes from the checkpoint. The copy keeps event ids, stream ids, stream
 * versions, types, data, metadata, schema versions and `recordedAt`, in the source's order; global
 * positions are the target's own (see docs/replication.md: the checkpoint maps them).
 * @example
 * ```ts
 * const follower: LogShippingFollower = await openLogShippingFollower({ source, target: { path: './edge.db' } });
 * await follower.catchUp();
 * ```
 */
export interface LogShippingFollower {
  /** The copy (read from it freely; only the follower should append to it). */
  readonly target: EventStore;
  /** Copies until the source has nothing newer (or `maxEvents` were copied). */
  catchUp(opts?: { maxEvents?: number }): Promise<CatchUpResult>;
  /** Copies continuously in the background until `stop()`; `done` rejects if copying fails. */
  start(): { done: Promise<void> };
  /** Stops background copying after the current batch. */
  stop(): Promise<void>;
  /** The durable checkpoint, read from the target. */
  checkpoint(): Promise<FollowerCheckpoint>;
  /** Stops and closes the target store (the source stays open: it is the caller's). */
  close(): Promise<void>;
}

/**
 * Opens a log-shipping follower that copies `source`'s global log into `target`.
 *
 * @example
 * ```ts
 * import { openLogShippingFollower, openPostgresEventStore } from 'tessera';
 * const source = await openPostgresEventStore({ connectionString: 'postgres://postgres@db:5432/app' });
 * const follower = await openLogShippingFollower({ source, target: { path: './edge/events.db' } });
 * await follower.catchUp();                    // copy what is there now
 * const { done } = follower.start();           // then keep following
 * // …
 * await follower.close();
 * ```
 */
export async function openLogShippingFollower(options: LogShippingFollowerOptions): Promise<LogShippingFollower> {
  const o = requireOptionsObject(options, 'options') as Partial<LogShippingFollowerOptions>;
  if (typeof o.source?.readAll !== 'function') {
    throw new InvalidArgumentError('source', 'is not an event store', 'Pass source: await openPostgresEventStore({ … }) (or any Tessera store).');
  }
  const name = o.name === undefined ? 'default' : requireBoundedString(o.name, 'name', 200);
  const batchSize = o.batchSize === undefined ? 1_000 : requirePositiveInt(o.batchSize, 'batchSize');
  if (batchSize > MAX_EVENTS_PER_APPEND) {
    throw new InvalidArgumentError('batchSize', `${batchSize} is above ${MAX_EVENTS_PER_APPEND}`, `Pass a batchSize of at most ${MAX_EVENTS_PER_APPEND}.`);
  }
  const pollIntervalMs = o.pollIntervalMs === undefined ? 200 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs');
  const clock = o.clock ?? systemClock;
  const copyClock = new CopyClock();
  const target = await openFollowerTarget(o.target, copyClock, o.upcasters);
  try {
    await storeDatabase(target).exec(CHECKPOINT_DDL);
  } catch (e) {
    await target.close();
    throw e;
  }
  return new Follower(o.source, target, { name, batchSize, pollIntervalMs, clock, copyClock });
}

interface FollowerConfig {
  name: string;
  batchSize: number;
  pollIntervalMs: number;
  clock: Clock;
  copyClock: CopyClock;
}

class Follower implements LogShippingFollower {
  #running: { stop: AbortController; done: Promise<void> } | null = null;
  #closed = false;
  /** The checkpoint this follower last wrote (or read at its first batch): the fence's expected value. */
  #position: FollowerCheckpoint | null = null;

  constructor(
    private readonly source: EventStore,
    readonly target: EventStore,
    private readonly config: FollowerConfig,
  ) {}

  checkpoint(): Promise<FollowerCheckpoint> {
    return readCheckpoint(storeDatabase(this.target), this.config.name);
  }

  async catchUp(opts: { maxEvents?: number } = {}): Promise<CatchUpResult> {
    this.#assertOpen();
    const max = opts.maxEvents === undefined ? Infinity : requirePositiveInt(opts.maxEvents, 'maxEvents');
    let copied = 0;
    let checkpoint = (this.#position ??= await this.checkpoint());
    while (copied < max) {
      const page = await this.source.readAll({ fromPosition: checkpoint.sourcePosition + 1n, maxCount: Math.min(this.config.batchSize, max - copied) });
      if (page.length === 0) break;
      checkpoint = this.#position = await this.#copyBatch(checkpoint, page);
      copied += page.length;
    }
    return { copied, checkpoint };
  }

  /** Appends one page and moves the checkpoint in one target transaction. */
  async #copyBatch(from: FollowerCheckpoint, page: RecordedEvent[]): Promise<FollowerCheckpoint> {
    const last = page[page.length - 1]!;
    const to: FollowerCheckpoint = { sourcePosition: last.globalPosition, copied: from.copied + BigInt(page.length), updatedAt: this.config.clock.now() };
    await storeTransaction(this.target, async (tx) => {
      for (const run of sourceAppends(page)) await this.#appendRun(tx, run);
      if (!(await moveCheckpoint(tx.sql, this.config.name, from, to))) {
        const actual = await readCheckpoint(tx.sql, this.config.name);
        throw new FollowerCheckpointConflictError(this.config.name, from.sourcePosition, actual.sourcePosition);
      }
    });
    return to;
  }

  /** One source append's events: the expected version pins each copy to its source stream version. */
  #appendRun(tx: StoreTransaction, run: RecordedEvent[]): Promise<unknown> {
    const first = run[0]!;
    const events: NewEvent[] = run.map((e) => ({ id: e.id, type: e.type, data: e.data, ...(e.metadata === undefined ? {} : { metadata: e.metadata }) }));
    return this.config.copyClock.pinned(first.recordedAt.getTime(), () =>
      tx.appendToStream(first.streamId, events, { expectedVersion: first.streamVersion - 1n }),
    );
  }

  start(): { done: Promise<void> } {
    this.#assertOpen();
    if (this.#running) return { done: this.#running.done };
    const stop = new AbortController();
    const done = (async () => {
      while (!stop.signal.aborted) {
        const { copied } = await this.catchUp({ maxEvents: this.config.batchSize });
        if (copied === 0) await sleep(this.config.pollIntervalMs, stop.signal);
      }
    })();
    this.#running = { stop, done };
    return { done };
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (!running) return;
    running.stop.abort();
    this.#running = null;
    await running.done.catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.stop();
    this.#closed = true;
    await this.target.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('log-shipping follower');
  }
}

/**
 * Splits a page into runs that were one append at the source: consecutive events of one stream with one
 * `recordedAt` (each run becomes one target append, so `recordedAt` is kept per event).
 */
export function sourceAppends(page: readonly RecordedEvent[]): RecordedEvent[][] {
  const runs: RecordedEvent[][] = [];
  let run: RecordedEvent[] = [];
  for (const e of page) {
    const prev = run[run.length - 1];
    if (prev && (prev.streamId !== e.streamId || prev.recordedAt.getTime() !== e.recordedAt.getTime() || prev.streamVersion + 1n !== e.streamVersion)) {
      runs.push(run);
      run = [];
    }
    run.push(e);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
