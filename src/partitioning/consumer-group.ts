import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore, RetryPolicy } from '../eventstore/types.js';
import { type Clock, systemClock } from '../support/clock.js';
import { uuidV7 } from '../support/ids.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { ensureGroupSchema, registerGroup } from './group-tables.js';
import { type ConsumerHandler, MemberLoop } from './member.js';
import { requirePartitionCount } from './partition-of.js';
import { consumerGroupStatus, type ConsumerGroupStatus } from './status.js';

/** Options of {@link openConsumerGroup}. */
export interface ConsumerGroupOptions {
  /** A store opened by Tessera; the group's tables live in its database. */
  store: EventStore;
  /** The group's name (at most 200 bytes). Members of one group share the work. */
  group: string;
  /** Partition count P, 1 … 4096, fixed when the group is created (every member must pass the same). */
  partitions: number;
  handler: ConsumerHandler;
  /**
   * A stable id makes this a static member: restarted with the same id, it takes its partitions back at
   * once. Default: a fresh `host:pid:random` id per open.
   */
  memberId?: string;
  /**
   * `'exactly-once'` (default): the handler runs inside the transaction that moves the partition
   * checkpoint; its SQL and appends through `ctx.tx` are applied exactly once. `'at-least-once'`: the
   * handler runs first, the checkpoint commits after it, so a crash in between repeats the batch.
   */
  delivery?: 'exactly-once' | 'at-least-once';
  /** Membership and lease time-to-live: a member that stops heartbeating loses its partitions this long after (default 10 000 ms). */
  sessionMs?: number;
  /** Events read per page (default 500). */
  batchSize?: number;
  /** How often an idle member looks for new events (default 100 ms). */
  pollIntervalMs?: number;
  /** How often a member heartbeats and rebalances (default 250 ms; at most sessionMs / 3). */
  rebalanceIntervalMs?: number;
  /** Attempts on a failing batch before the member stops with ConsumerHandlerError (default 5, 100 ms → 5 s). */
  retry?: RetryPolicy;
  clock?: Clock;
  random?: () => number;
}

/**
 * One running member of a consumer group. `events` emits `assigned` ({ partitions }), `revoked`
 * ({ partition, to }), `fenced`, `batch` ({ count, position }), `handler-error` and `member-error`.
 *
 * @example
 * ```ts
 * const member = await openConsumerGroup({ store, group: 'mailer', partitions: 8, handler });
 * member.events.on('assigned', (a) => console.log('now running', a.partitions));
 * console.log(await member.status());
 * await member.stop();
 * ```
 */
export class ConsumerGroup {
  readonly events = new EventEmitter();
  readonly #abort = new AbortController();
  #loop: MemberLoop | null = null;
  #leave = true;

  constructor(
    readonly store: EventStore,
    readonly group: string,
    readonly partitions: number,
    readonly memberId: string,
  ) {}

  /** @internal */
  start(make: (signal: AbortSignal, leaveOnStop: () => boolean) => MemberLoop): void {
    this.#loop = make(this.#abort.signal, () => this.#leave);
  }

  /** The partitions this member holds right now, ascending. */
  get assigned(): number[] {
    return [...(this.#loop?.held.keys() ?? [])].sort((a, b) => a - b);
  }

  /** Settles when the member stops; rejects with ConsumerHandlerError if a batch kept failing. */
  get done(): Promise<void> {
    return this.#loop!.done;
  }

  /** Members, partitions per member, checkpoints and lag per partition of this member's group. */
  status(): Promise<ConsumerGroupStatus> {
    return consumerGroupStatus(this.store, this.group);
  }

  /**
   * Stops after the current batch. By default the member leaves: its partitions are released at once and
   * the others take them. `{ leave: false }` (a rolling restart of a static member) keeps them reserved for
   * `sessionMs`, so the restarted member gets the same partitions back without a rebalance.
   */
  async stop(options: { leave?: boolean } = {}): Promise<void> {
    this.#leave = requireOptionsObject(options, 'options').leave !== false;
    this.#abort.abort();
    await this.#loop?.done.catch(() => undefined);
  }
}

/**
 * Joins (creating it if needed) a consumer group over the store's global log: every event belongs to one of
 * `partitions` partitions by an xxHash64 of its stream id; members share the partitions evenly through
 * fenced leases and rebalance cooperatively; each partition has its own checkpoint. Per stream, events
 * reach the handler in order, across rebalances and crashes.
 *
 * @example
 * ```ts
 * const member = await openConsumerGroup({
 *   store, group: 'order-totals', partitions: 8, memberId: 'worker-1',
 *   handler: async (e, { tx }) => { await tx!.sql.run('UPDATE totals SET n = n + 1 WHERE id = ?', [e.streamId]); },
 * });
 * ```
 */
export async function openConsumerGroup(options: ConsumerGroupOptions): Promise<ConsumerGroup> {
  const o = requireOptionsObject(options, 'options') as Partial<ConsumerGroupOptions>;
  if (typeof o.store?.readAll !== 'function') {
    throw new InvalidArgumentError('store', 'is not an event store', 'Pass openConsumerGroup({ store, group, partitions, handler }).');
  }
  const db = storeDatabase(o.store);
  const group = requireBoundedString(o.group, 'group', 200);
  const partitions = requirePartitionCount(o.partitions, 'partitions');
  if (typeof o.handler !== 'function') {
    throw new InvalidArgumentError('handler', 'is not a function', 'Pass handler: async (event, ctx) => { … }.');
  }
  const memberId = o.memberId === undefined ? `${hostname()}:${process.pid}:${uuidV7().slice(-8)}` : requireBoundedString(o.memberId, 'memberId', 200);
  const delivery = o.delivery ?? 'exactly-once';
  if (delivery !== 'exactly-once' && delivery !== 'at-least-once') {
    throw new InvalidArgumentError('delivery', `"${String(delivery)}" is not exactly-once or at-least-once`, "Pass delivery: 'exactly-once' or 'at-least-once'.");
  }
  const sessionMs = o.sessionMs === undefined ? 10_000 : requirePositiveInt(o.sessionMs, 'sessionMs');
  const rebalanceIntervalMs = Math.min(o.rebalanceIntervalMs === undefined ? 250 : requirePositiveInt(o.rebalanceIntervalMs, 'rebalanceIntervalMs'), Math.max(1, Math.floor(sessionMs / 3)));
  const retry = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5_000, ...requireOptionsObject(o.retry, 'retry') };
  requirePositiveInt(retry.maxAttempts, 'retry.maxAttempts');
  const batchSize = o.batchSize === undefined ? 500 : requirePositiveInt(o.batchSize, 'batchSize');
  const pollIntervalMs = o.pollIntervalMs === undefined ? 100 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs');
  const clock = o.clock ?? systemClock;
  const leases = await ensureGroupSchema(db, clock);
  await registerGroup(db, group, partitions, clock.now());
  const member = new ConsumerGroup(o.store, group, partitions, memberId);
  const context = {
    store: o.store, db, leases, group, partitions, memberId, handler: o.handler, delivery, sessionMs, batchSize, pollIntervalMs,
    rebalanceIntervalMs, retry, clock, random: o.random ?? Math.random, events: member.events,
  };
  member.start((signal, leaveOnStop) => new MemberLoop({ ...context, signal }, leaveOnStop));
  return member;
}
