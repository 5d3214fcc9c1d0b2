import { isTesseraError } from '../errors.js';
import { storeDatabase, storeTransaction, type StoreTransaction, syncStoreWriter, type SyncStoreWriter } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import { isPgConnectionError } from '../storage/postgres-errors.js';
import { SqliteDatabase } from '../storage/sqlite.js';
import type { PgTransitionBatch } from './pg-apply.js';
import { applyTransition, applyTransitionSync, type Transition, type TransitionResult } from './transition.js';

/** A unit of work that may share its transaction with other sagas' transitions. */
export type BatchWork<T> = (tx: StoreTransaction) => Promise<T>;

interface Pending {
  /** A transition as data (one statement on PostgreSQL), or work run in a shared transaction. */
  piece: { transition: Transition } | { work: BatchWork<unknown> };
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for saga transitions: the transitions that different sagas of one engine submit while a commit
 * is under way go together into the next transaction, so N concurrent sagas pay for one commit (one fsync)
 * instead of N. Every piece still starts with its own fenced update, and a fenced-out piece (it wrote nothing:
 * the fence is the first statement) fails alone while the rest commit. A piece failing any other way may have
 * written part of its changes, so the whole transaction is rolled back and each piece then runs in a
 * transaction of its own: the outcome for every piece is exactly what it would be alone. On PostgreSQL the
 * transitions given as data go as one statement (`pg-apply.ts`): one round trip for the whole batch.
 *
 * A lone piece with nothing in flight runs at once (no waiting for company), so sequential sagas lose no latency;
 * on SQLite the transitions of an engine's only saga run synchronously, lifecycle events included (`applyTransitionSync`): no
 * promise or lock hops.
 */
export class CommitBatcher {
  readonly #store: EventStore;
  readonly #pg: PgTransitionBatch | null;
  /** The store's SQLite connection, for the synchronous path; null on PostgreSQL. */
  readonly #sqlite: SqliteDatabase | null;
  /** The store's synchronous writer (appends inside the synchronous transaction); null on PostgreSQL or with append hooks. */
  readonly #writer: SyncStoreWriter | null;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  /** True while the engine runs at most one saga: then no other transition can come to share a commit. */
  readonly #lone: () => boolean;
  #queue: Pending[] = [];
  #inFlight = 0;
  #gathering = false;
  /** The last batch to commit held several pieces: their sagas' next transitions are likely on their way. */
  #released = false;

  constructor(store: EventStore, o: { pg: PgTransitionBatch | null; maxInFlight: number; maxBatch: number; lone?: () => boolean }) {
    this.#store = store;
    this.#pg = o.pg;
    const db = storeDatabase(store);
    this.#sqlite = db instanceof SqliteDatabase ? db : null;
    this.#writer = this.#sqlite === null ? null : syncStoreWriter(store);
    this.#maxInFlight = o.maxInFlight;
    this.#maxBatch = o.maxBatch;
    this.#lone = o.lone ?? (() => false);
  }

  /** Runs `work` in a transaction, possibly shared with other submitted work; resolves after the commit. */
  submit<T>(work: BatchWork<T>): Promise<T> {
    return this.#enqueue({ work: work as BatchWork<unknown> }) as Promise<T>;
  }

  /** Applies a transition (possibly in one statement with others); an update that lost its fence rejects with `FencingError`. */
  apply(transition: Transition): Promise<TransitionResult> {
    if (transition.work !== undefined) return storeTransaction(this.#store, (tx) => applyTransition(tx, transition, this.#sqlite));
    const db = this.#sqlite;
    // The engine's only saga, nothing queued or in flight, no async transaction open on the connection: nothing can
    // interleave with a synchronous transaction, and no other saga's transition would come to share its commit
    // (with several sagas running, the batch that waits for them is worth more than the hops it costs).
    // Lifecycle events join it through the store's synchronous writer (none with inline projections).
    const writer = this.#writer;
    if (db !== null && (transition.events.length === 0 || writer !== null) && this.#lone() && this.#alone() && !db.lock.locked && !db.writeLock.locked) {
      try {
        return Promise.resolve(applyTransitionSync(db, transition, writer));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.#enqueue({ transition }) as Promise<TransitionResult>;
  }

  /** No piece queued or in flight, and no batch just released (whose sagas would follow in microtasks). */
  #alone(): boolean {
    return this.#inFlight === 0 && this.#queue.length === 0 && !this.#gathering && !this.#released;
  }

  #enqueue(piece: Pending['piece']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ piece, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#gathering || this.#inFlight >= this.#maxInFlight || this.#queue.length === 0) return;
    // Alone, with nothing in flight and no batch just released (whose sagas would follow in microtasks): no
    // company is coming, so the piece leaves at once instead of paying an event-loop turn per transition.
    if (this.#inFlight === 0 && this.#queue.length === 1 && !this.#released) return this.#launch();
    // One event-loop turn before leaving: the sagas a commit just released submit their next transitions in
    // microtasks, so they join this batch instead of trailing it as a second, smaller one.
    this.#gathering = true;
    setImmediate(() => {
      this.#gathering = false;
      while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) this.#launch();
    });
  }

  #launch(): void {
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#inFlight++;
    void this.#flush(batch).finally(() => {
      this.#inFlight--;
      this.#released = batch.length > 1;
      this.#pump();
    });
  }

  async #flush(batch: Pending[]): Promise<void> {
    const pg = this.#pg;
    if (pg === null) return this.#transaction(batch);
    const statement = batch.filter((p) => 'transition' in p.piece);
    const rest = batch.filter((p) => !('transition' in p.piece));
    await Promise.all([statement.length > 0 ? this.#statement(pg, statement) : undefined, rest.length > 0 ? this.#transaction(rest) : undefined]);
  }

  async #statement(pg: PgTransitionBatch, batch: Pending[]): Promise<void> {
    let results: Array<TransitionResult | Error>;
    try {
      results = await pg.apply(batch.map((p) => (p.piece as { transition: Transition }).transition));
    } catch (e) {
      // A lost connection leaves the commit unknown: every piece gets what it would have got alone.
      if (isPgConnectionError(e)) for (const p of batch) p.reject(e);
      // Otherwise the server refused the statement and stored nothing of it (a raced transition, say): each alone.
      else await Promise.all(batch.map((p) => this.#single(p)));
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
  }

  async #transaction(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.#single(batch[0]!);
    const outcomes: Outcome[] = [];
    let pieceFailed = false;
    try {
      await storeTransaction(this.#store, async (tx) => {
        for (const p of batch) {
          try {
            outcomes.push({ ok: true, value: await run(tx, p, this.#sqlite) });
          } catch (e) {
            // Fenced out before writing anything: only this piece fails.
            if (!isTesseraError(e, 'LEASE_FENCED')) {
              pieceFailed = true;
              throw e;
            }
            outcomes.push({ ok: false, error: e });
          }
        }
      });
    } catch (e) {
      // A piece may have half-written, so nothing of the batch committed: each piece alone decides its outcome.
      if (pieceFailed) await Promise.all(batch.map((p) => this.#single(p)));
      // The transaction itself failed (begin, commit, connection): every piece gets what it would have got alone.
      else for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  async #single(p: Pending): Promise<void> {
    try {
      p.resolve(await storeTransaction(this.#store, (tx) => run(tx, p, this.#sqlite)));
    } catch (e) {
      p.reject(e);
    }
  }
}

function run(tx: StoreTransaction, p: Pending, db: SqliteDatabase | null): Promise<unknown> {
  return 'transition' in p.piece ? applyTransition(tx, p.piece.transition, db) : p.piece.work(tx);
}

