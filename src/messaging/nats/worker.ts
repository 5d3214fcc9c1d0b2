import type { ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import { isTesseraError } from '../../errors.js';
import { backoffDelay } from '../../support/backoff.js';
import { sleep } from '../../support/clock.js';
import { decodePayload, HEADERS, toBusMessage } from '../envelope.js';
import { errorText, type ResolvedSubscribe } from '../options.js';
import { isDeadLetterSubject } from '../subjects.js';
import type { BusSubscription } from '../types.js';

/** What a worker needs from its bus. */
export interface WorkerContext {
  js: JetStreamClient;
  stream: string;
  prefix: string;
  random(): number;
  /** Publishes a dead letter for a message (deduplicated per consumer and sequence). */
  deadLetter(consumer: string, m: JsMsg, deliveries: number, error: string): Promise<void>;
  /** Reports a failure the worker recovers from by itself (lost connection, consumer gone for a moment). */
  onError(e: unknown): void;
}

interface Held {
  m: JsMsg;
  key: string;
  version: bigint;
  heartbeat: NodeJS.Timeout;
  /** When the handler first said "too early" (its stream's previous event is not applied yet). */
  earlySince: number | undefined;
  earlyTries: number;
  notBefore: number;
}

/** Messages held locally (waiting for their turn) before the pull loop pauses. */
const MAX_HELD = 2_000;

/**
 * One member of a durable pull consumer. Pulls with `consume()` and holds what it receives, keeping each
 * message's ack deadline alive (`working()`) while it waits or runs. Runs up to `concurrency` handlers at
 * once, but one per event stream, lowest stream version first. Acks on success; on failure naks with
 * backoff, or on the last allowed delivery dead-letters and terminates the message. A handler that throws
 * a retryable `EVENT_OUT_OF_ORDER` error (the inbox saw the stream's previous event is still with another
 * member) is retried here, without a redelivery, so waiting for order never uses up deliveries.
 */
export class ConsumerWorker implements BusSubscription {
  readonly consumer: string;
  readonly done: Promise<void>;
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  readonly #queues = new Map<string, Held[]>();
  readonly #running = new Set<string>();
  #held = 0;
  #idle: (() => void) | undefined;
  readonly #wake = new AbortController();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly config: ResolvedSubscribe,
  ) {
    this.consumer = config.consumer;
    this.done = this.#run();
    this.done.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    this.#messages?.stop();
    await this.done;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        const consumer = await this.ctx.js.consumers.get(this.ctx.stream, this.config.consumer);
        // A short `expires` also shortens the client's back-off after a server restart.
        this.#messages = await consumer.consume({ max_messages: Math.max(2 * this.config.concurrency, 16), expires: 5_000 });
        if (this.#stopped) this.#messages.stop();
        failures = 0;
        for await (const m of this.#messages) {
          this.#receive(m);
          while (this.#held >= MAX_HELD && !this.#stopped) await new Promise<void>((r) => (this.#idle = r));
          if (this.#stopped) break;
        }
      } catch (e) {
        if (this.#stopped) break;
        this.ctx.onError(e);
      }
      if (!this.#stopped) await sleep(backoffDelay({ initialDelayMs: 100, maxDelayMs: 2_000 }, ++failures, this.ctx.random), this.#wake.signal);
    }
    this.#messages?.stop();
    // Let running handlers finish; hand waiting messages back at once so other members take them.
    while (this.#running.size > 0) await new Promise<void>((r) => (this.#idle = r));
    for (const q of this.#queues.values()) for (const h of q) this.#release(h, () => h.m.nak());
    this.#queues.clear();
  }

  #receive(m: JsMsg): void {
    if (isDeadLetterSubject(this.ctx.prefix, m.subject)) return quietly(() => m.ack());
    const key = decodeURIComponent(m.headers?.get(HEADERS.streamId) ?? '');
    const version = parseVersion(m.headers?.get(HEADERS.streamVersion));
    const heartbeat = setInterval(() => quietly(() => m.working()), Math.max(200, Math.floor(this.config.ackWaitMs / 3)));
    this.#held++;
    this.#enqueue({ m, key, version, heartbeat, earlySince: undefined, earlyTries: 0, notBefore: 0 });
    this.#pump();
  }

  #enqueue(h: Held): void {
    const q = this.#queues.get(h.key) ?? [];
    let i = q.length;
    while (i > 0 && q[i - 1]!.version > h.version) i--;
    q.splice(i, 0, h);
    this.#queues.set(h.key, q);
  }

  // Starts the oldest ready messages (by bus sequence) of streams with no handler running, up to the
  // concurrency limit; with concurrency 1 that is plain publish order.
  #pump(): void {
    if (this.#stopped || this.#running.size >= this.config.concurrency) return;
    const now = Date.now();
    const ready: Array<[string, Held[]]> = [];
    for (const entry of this.#queues) {
      const head = entry[1][0];
      if (head !== undefined && !this.#running.has(entry[0]) && head.notBefore <= now) ready.push(entry);
    }
    ready.sort((a, b) => a[1][0]!.m.seq - b[1][0]!.m.seq);
    for (const [key, q] of ready.slice(0, this.config.concurrency - this.#running.size)) {
      const head = q.shift()!;
      if (q.length === 0) this.#queues.delete(key);
      this.#running.add(key);
      void this.#handle(head)
        .catch((e: unknown) => this.ctx.onError(e))
        .finally(() => {
          this.#running.delete(key);
          this.#idle?.();
          this.#pump();
        });
    }
  }

  #release(h: Held, settle: () => void): void {
    clearInterval(h.heartbeat);
    this.#held--;
    // On a closed connection the ack cannot be sent; the server redelivers after the ack wait instead.
    quietly(settle);
    this.#idle?.();
  }

  async #handle(h: Held): Promise<void> {
    const { m } = h;
    const deliveries = m.info.redeliveryCount;
    let event;
    try {
      event = decodePayload(m.data);
    } catch (e) {
      return this.#giveUp(h, deliveries, errorText(e));
    }
    try {
      await this.config.handler(toBusMessage(event, m.subject, deliveries, m.seq));
      this.#release(h, () => m.ack());
    } catch (e) {
      if (isTesseraError(e, 'EVENT_OUT_OF_ORDER') && !this.#stopped) {
        h.earlySince ??= Date.now();
        if (Date.now() - h.earlySince < this.config.orderWaitMs) {
          const delay = Math.min(250, 5 * 2 ** Math.min(h.earlyTries++, 6));
          h.notBefore = Date.now() + delay;
          this.#enqueue(h);
          setTimeout(() => this.#pump(), delay + 1);
          return;
        }
      }
      if (deliveries >= this.config.maxDeliver) return this.#giveUp(h, deliveries, errorText(e));
      this.#release(h, () => m.nak(backoffDelay(this.config.backoff, deliveries, this.ctx.random)));
    }
  }

  async #giveUp(h: Held, deliveries: number, error: string): Promise<void> {
    try {
      await this.ctx.deadLetter(this.config.consumer, h.m, deliveries, error);
      this.#release(h, () => h.m.term());
    } catch (e) {
      // Not dead-lettered: let the bus redeliver (or raise its max-deliveries advisory) rather than lose it.
      this.ctx.onError(e);
      this.#release(h, () => h.m.nak(this.config.backoff.maxDelayMs));
    }
  }
}

function parseVersion(header: string | undefined): bigint {
  try {
    return BigInt(header || '0');
  } catch {
    return 0n;
  }
}

function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // the connection is closed: nothing to tell the server any more
  }
}
