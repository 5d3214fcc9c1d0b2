import type { EventEmitter } from 'node:events';
import { ConsumerHandlerError, FencingError, isTesseraError, TesseraError } from '../errors.js';
import { readLogPartitions, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { EventStore, RecordedEvent, RetryPolicy } from '../eventstore/types.js';
import type { Lease, LeaseTable } from '../storage/lease.js';
import type { SqlDriver } from '../storage/port.js';
import { backoffDelay } from '../support/backoff.js';
import { type Clock, sleep } from '../support/clock.js';
import { assignPartitions } from './assignment.js';
import { acquirePartition, checkpoints, heartbeat, leave, leaseName, members, moveCheckpoint, partitionLeases } from './group-tables.js';
import { partitionOf } from './partition-of.js';

/** What a handler gets besides the event. */
export interface ConsumerContext {
  /** The event's partition. */
  partition: number;
  memberId: string;
  /** The fencing token of this member's lease on the partition. */
  fence: bigint;
  /**
   * With `delivery: 'exactly-once'`: the transaction the partition checkpoint commits in. SQL through
   * `tx.sql` and appends through `tx.appendToStream` commit with it, so their effect happens exactly once.
   * With `'at-least-once'`: null (the handler runs before the checkpoint's own transaction).
   */
  tx: StoreTransaction | null;
}

/** A consumer group's handler; per stream, it sees events in stream order. */
export type ConsumerHandler = (event: RecordedEvent, ctx: ConsumerContext) => Promise<void> | void;

/** Everything one member's loop needs. */
export interface MemberContext {
  store: EventStore;
  db: SqlDriver;
  leases: LeaseTable;
  group: string;
  partitions: number;
  memberId: string;
  handler: ConsumerHandler;
  delivery: 'exactly-once' | 'at-least-once';
  sessionMs: number;
  batchSize: number;
  pollIntervalMs: number;
  rebalanceIntervalMs: number;
  retry: Required<RetryPolicy>;
  clock: Clock;
  random: () => number;
  events: EventEmitter;
  signal: AbortSignal;
}

interface Held {
  lease: Lease;
  checkpoint: bigint;
}

/** Someone else moved a checkpoint under this member (a repartition, or a fenced-out twin). */
class CheckpointMoved extends TesseraError {
  constructor(group: string, partition: number) {
    super('CHECKPOINT_MOVED', `The checkpoint of partition ${partition} of group "${group}" moved during a batch`, { retryable: true });
  }
}

/**
 * One member's loop: heartbeats and rebalances every `rebalanceIntervalMs`, reads the global log from its
 * lowest partition checkpoint, hands each event of a held partition to the handler in log order, and moves
 * every held checkpoint in the batch's transaction, which first checks each lease's fence.
 */
export class MemberLoop {
  readonly held = new Map<number, Held>();
  #lastSync = Number.NEGATIVE_INFINITY;
  #failures = 0;
  readonly done: Promise<void>;

  constructor(private readonly c: MemberContext, private readonly leaveOnStop: () => boolean) {
    this.done = this.#run();
  }

  async #run(): Promise<void> {
    let errors = 0;
    try {
      while (!this.c.signal.aborted) {
        try {
          if (this.c.clock.now() - this.#lastSync >= this.c.rebalanceIntervalMs) await this.#sync();
          const busy = this.held.size > 0 && (await this.#batch());
          errors = 0;
          if (!busy) await sleep(this.c.pollIntervalMs, this.c.signal);
        } catch (error) {
          if (error instanceof FencingError) this.#fenced(error);
          else if (error instanceof ConsumerHandlerError) await this.#handlerFailed(error);
          else {
            errors++;
            if (!isTesseraError(error, 'CHECKPOINT_MOVED')) this.c.events.emit('member-error', { memberId: this.c.memberId, error });
            // A moved checkpoint means this view is stale: reload it from the table on the next sync.
            if (isTesseraError(error, 'CHECKPOINT_MOVED')) this.#dropAll();
            await sleep(backoffDelay({ initialDelayMs: 20, maxDelayMs: 2_000 }, errors, this.c.random), this.c.signal);
          }
        }
      }
    } finally {
      await this.#leave();
    }
  }

  async #leave(): Promise<void> {
    if (!this.leaveOnStop()) return;
    for (const h of this.held.values()) await this.c.leases.release(h.lease).catch(() => undefined);
    this.held.clear();
    await leave(this.c.db, this.c.group, this.c.memberId).catch(() => undefined);
  }

  #fenced(error: FencingError): void {
    const partition = Number(error.lease.slice(this.c.group.length + 1));
    this.held.delete(partition);
    this.#lastSync = Number.NEGATIVE_INFINITY;
    this.c.events.emit('fenced', { memberId: this.c.memberId, partition, error });
  }

  #dropAll(): void {
    this.held.clear();
    this.#lastSync = Number.NEGATIVE_INFINITY;
  }

  /** Heartbeat, then give away the partitions that move elsewhere and take the free ones assigned here. */
  async #sync(): Promise<void> {
    const { db, group, memberId, sessionMs } = this.c;
    const now = this.c.clock.now();
    this.#lastSync = now;
    await heartbeat(db, group, memberId, now, sessionMs);
    const live = (await members(db, group)).filter((m) => m.expiresAt > now).map((m) => m.memberId);
    const owners = new Map<number, string>();
    for (const l of await partitionLeases(db, group)) {
      const mine = this.held.get(l.partition);
      // Taken over while this process was paused: it is not ours any more, whatever we remember.
      if (mine !== undefined && mine.lease.fence !== l.fence) this.#fenced(new FencingError(mine.lease.name, mine.lease.fence));
      if (l.expiresAt > now || this.held.has(l.partition)) owners.set(l.partition, l.owner);
    }
    const target = assignPartitions(this.c.partitions, live, owners);
    for (const [p, h] of [...this.held]) {
      if (target[p] === memberId) continue;
      this.held.delete(p);
      await this.c.leases.release(h.lease);
      this.c.events.emit('revoked', { memberId, partition: p, to: target[p] });
    }
    const wanted = target.flatMap((m, p) => (m === memberId && !this.held.has(p) && (owners.get(p) ?? memberId) === memberId ? [p] : []));
    if (wanted.length > 0) {
      const acquired: number[] = [];
      const fences = new Map<number, bigint>();
      for (const p of wanted) {
        const fence = await acquirePartition(db, group, p, memberId, now, sessionMs);
        if (fence !== null) fences.set(p, fence);
      }
      // Read the checkpoints after taking the leases: the previous holder's last commit is in by then.
      const stored = await checkpoints(db, group);
      for (const [p, fence] of fences) {
        this.held.set(p, { lease: { name: leaseName(group, p), owner: memberId, fence }, checkpoint: stored.get(p) ?? 0n });
        acquired.push(p);
      }
      if (acquired.length > 0) this.c.events.emit('assigned', { memberId, partitions: acquired });
    }
    if (this.held.size > 0) {
      await db.transaction(async (tx) => {
        for (const h of this.held.values()) await this.c.leases.guard(tx, h.lease, sessionMs);
      });
    }
  }

  /**
   * Reads and handles one page of the held partitions (filtered by the database, so each member reads only
   * its share of the log); false when there was nothing new. Every held checkpoint moves to the page's
   * `through`, past which no held event is missing.
   */
  async #batch(): Promise<boolean> {
    let from = -1n;
    for (const h of this.held.values()) if (from < 0n || h.checkpoint < from) from = h.checkpoint;
    const page = await readLogPartitions(this.c.store, {
      fromPosition: from + 1n,
      maxCount: this.c.batchSize,
      partitionCount: this.c.partitions,
      partitions: [...this.held.keys()],
    });
    const last = page.through;
    if (last === null || last <= from) return false;
    const mine: Array<{ event: RecordedEvent; partition: number; held: Held }> = [];
    for (const event of page.events) {
      const partition = partitionOf(event.streamId, this.c.partitions);
      const held = this.held.get(partition);
      if (held !== undefined && event.globalPosition > held.checkpoint) mine.push({ event, partition, held });
    }
    const moving = [...this.held].filter(([, h]) => h.checkpoint < last);
    const now = this.c.clock.now();
    const commit = async (tx: StoreTransaction | null, sqlTx: StoreTransaction['sql']): Promise<void> => {
      for (const [, h] of moving) await this.c.leases.guard(sqlTx, h.lease, this.c.sessionMs);
      if (tx !== null) for (const m of mine) await this.#handle(m, tx);
      for (const [p, h] of moving) {
        if (!(await moveCheckpoint(sqlTx, this.c.group, p, h.checkpoint, last, now))) throw new CheckpointMoved(this.c.group, p);
      }
    };
    if (this.c.delivery === 'exactly-once') {
      await storeTransaction(this.c.store, (tx) => commit(tx, tx.sql));
    } else {
      for (const m of mine) await this.#handle(m, null);
      await this.c.db.transaction((sqlTx) => commit(null, sqlTx));
    }
    for (const [, h] of moving) h.checkpoint = last;
    this.#failures = 0;
    this.c.events.emit('batch', { memberId: this.c.memberId, count: mine.length, position: last });
    return true;
  }

  async #handle(m: { event: RecordedEvent; partition: number; held: Held }, tx: StoreTransaction | null): Promise<void> {
    try {
      await this.c.handler(m.event, { partition: m.partition, memberId: this.c.memberId, fence: m.held.lease.fence, tx });
    } catch (error) {
      throw new ConsumerHandlerError(this.c.group, m.partition, m.event.id, error);
    }
  }

  async #handlerFailed(error: ConsumerHandlerError): Promise<void> {
    this.#failures++;
    this.c.events.emit('handler-error', { memberId: this.c.memberId, attempt: this.#failures, error });
    if (this.#failures >= this.c.retry.maxAttempts) throw error;
    await sleep(backoffDelay(this.c.retry, this.#failures, this.c.random), this.c.signal);
  }
}
