import { InvalidArgumentError, StoreClosedError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { backoffDelay } from '../support/backoff.js';
import { sleep } from '../support/clock.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { toBusMessage } from './envelope.js';
import { errorText, type ResolvedSubscribe, resolveSubscribe, subjectMatches } from './options.js';
import { DEFAULT_PREFIX, subjectFor, validatePrefix } from './subjects.js';
import type { BusSubscription, DeadLetter, EventBus, PublishAck, PublishAllResult } from './types.js';
import { requireRecordedEvent } from './validate-event.js';

/**
 * Options of {@link InProcessEventBus}.
 *
 * @example
 * ```ts
 * const bus = new InProcessEventBus({ prefix: 'shop', maxMessages: 10_000 });
 * ```
 */
export interface InProcessBusOptions {
  prefix?: string;
  /** Messages kept for consumers that subscribe later (and for deduplication); oldest dropped first (default 100 000). */
  maxMessages?: number;
  random?: () => number;
}

interface LogEntry {
  sequence: number;
  subject: string;
  event: RecordedEvent;
}

interface Member {
  stopped: boolean;
  busy: boolean;
  handler: ResolvedSubscribe['handler'];
  resolveDone(): void;
}

interface ConsumerState {
  config: ResolvedSubscribe;
  /** Sequence of the next message to deliver. */
  next: number;
  members: Member[];
  turn: number;
  running: boolean;
  wake: AbortController;
  /** Cuts a redelivery backoff short when a member stops. */
  interrupt: AbortController;
}

/**
 * The default bus: everything stays in this process, with the same semantics as the JetStream adapter —
 * deduplication by event id, durable named consumers shared by their subscriptions (round robin), ack by
 * resolving, redelivery with backoff on a throw, dead letters after `maxDeliver`. A consumer handles one
 * message at a time, in publish order. Consumer positions live as long as the bus object.
 *
 * @example
 * ```ts
 * const bus = new InProcessEventBus();
 * await bus.subscribe({ consumer: 'mailer', handler: async (m) => console.log(m.event.type) });
 * for (const e of await store.readAll()) await bus.publish(e);
 * ```
 */
export class InProcessEventBus implements EventBus {
  readonly kind = 'in-process' as const;
  readonly prefix: string;
  readonly #log: LogEntry[] = [];
  #base = 1;
  readonly #ids = new Map<string, number>();
  readonly #consumers = new Map<string, ConsumerState>();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #maxMessages: number;
  readonly #random: () => number;
  #closed = false;

  constructor(options: InProcessBusOptions = {}) {
    const o = requireOptionsObject(options, 'options') as InProcessBusOptions;
    this.prefix = validatePrefix(o.prefix ?? DEFAULT_PREFIX);
    this.#maxMessages = o.maxMessages === undefined ? 100_000 : requirePositiveInt(o.maxMessages, 'maxMessages');
    this.#random = o.random ?? Math.random;
  }

  async publish(event: RecordedEvent): Promise<PublishAck> {
    this.#assertOpen();
    const e = requireRecordedEvent(event);
    const known = this.#ids.get(e.id);
    if (known !== undefined) return { sequence: known, duplicate: true };
    const sequence = this.#base + this.#log.length;
    this.#log.push({ sequence, subject: subjectFor(this.prefix, e.streamId, e.type), event: e });
    this.#ids.set(e.id, sequence);
    while (this.#log.length > this.#maxMessages) {
      const dropped = this.#log.shift()!;
      this.#ids.delete(dropped.event.id);
      this.#base++;
    }
    for (const c of this.#consumers.values()) c.wake.abort();
    return { sequence, duplicate: false };
  }

  async publishAll(events: readonly RecordedEvent[]): Promise<PublishAllResult> {
    if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'is not an array', 'Pass an array of recorded events.');
    const checked = events.map((e, i) => requireRecordedEvent(e, `events[${i}]`));
    const acks: PublishAck[] = [];
    for (const e of checked) {
      try {
        acks.push(await this.publish(e));
      } catch (error) {
        return { acks, error };
      }
    }
    return { acks };
  }

  async subscribe(options: Parameters<EventBus['subscribe']>[0]): Promise<BusSubscription> {
    this.#assertOpen();
    const config = resolveSubscribe(this.prefix, options, 1);
    let state = this.#consumers.get(config.consumer);
    if (state === undefined) {
      state = { config, next: this.#base, members: [], turn: 0, running: false, wake: new AbortController(), interrupt: new AbortController() };
      this.#consumers.set(config.consumer, state);
    }
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const member: Member = { stopped: false, busy: false, handler: config.handler, resolveDone };
    state.members.push(member);
    if (!state.running) void this.#dispatch(state);
    const s = state;
    return { consumer: config.consumer, done, stop: () => this.#stopMember(s, member, done) };
  }

  async #stopMember(state: ConsumerState, member: Member, done: Promise<void>): Promise<void> {
    member.stopped = true;
    state.members = state.members.filter((m) => m !== member);
    state.wake.abort();
    state.interrupt.abort();
    // A handler call in flight finishes (and is acked or nacked) before stop resolves.
    if (!member.busy) member.resolveDone();
    await done;
  }

  async deadLetters(options?: { consumer?: string; limit?: number }): Promise<DeadLetter[]> {
    const o = requireOptionsObject(options, 'options') as { consumer?: string; limit?: number };
    const limit = o.limit === undefined ? Number.MAX_SAFE_INTEGER : requirePositiveInt(o.limit, 'limit');
    return this.#deadLetters.filter((d) => o.consumer === undefined || d.consumer === o.consumer).slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stops: Promise<void>[] = [];
    for (const c of this.#consumers.values()) {
      for (const m of [...c.members]) stops.push(this.#stopMember(c, m, new Promise<void>((r) => {
        const prev = m.resolveDone;
        m.resolveDone = () => (prev(), r());
      })));
    }
    await Promise.all(stops);
  }

  // One loop per consumer: deliver the next matching message to the next member, retry it until acked or
  // dead-lettered, then move on. Ends when the consumer has no members left.
  async #dispatch(state: ConsumerState): Promise<void> {
    state.running = true;
    try {
      for (;;) {
        state.members = state.members.filter((m) => !m.stopped);
        if (state.members.length === 0 || this.#closed) return;
        if (state.next < this.#base) state.next = this.#base;
        const entry = this.#log[state.next - this.#base];
        if (entry === undefined) {
          state.wake = new AbortController();
          await sleep(1_000, state.wake.signal);
          continue;
        }
        if (subjectMatches(state.config.filter, entry.subject) && !(await this.#deliver(state, entry))) continue;
        state.next = entry.sequence + 1;
      }
    } finally {
      state.running = false;
    }
  }

  /** True when the message was acked or dead-lettered; false when every member left before it was. */
  async #deliver(state: ConsumerState, entry: LogEntry): Promise<boolean> {
    const { maxDeliver, backoff } = state.config;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxDeliver; attempt++) {
      const live = state.members.filter((m) => !m.stopped);
      const member = live[state.turn++ % Math.max(1, live.length)];
      if (member === undefined) return false;
      member.busy = true;
      try {
        await member.handler(toBusMessage(entry.event, entry.subject, attempt, entry.sequence));
        return true;
      } catch (e) {
        lastError = e;
      } finally {
        member.busy = false;
        if (member.stopped) member.resolveDone();
      }
      if (attempt < maxDeliver) {
        await sleep(backoffDelay(backoff, attempt, this.#random), state.interrupt.signal);
        if (state.interrupt.signal.aborted) state.interrupt = new AbortController();
      }
    }
    this.#deadLetters.push({
      consumer: state.config.consumer,
      event: entry.event,
      subject: entry.subject,
      sequence: entry.sequence,
      deliveries: maxDeliver,
      error: errorText(lastError),
      deadLetteredAt: new Date(),
    });
    return true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('event bus');
  }
}
