import type { ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import { backoffDelay } from '../../support/backoff.js';
import { sleep } from '../../support/clock.js';
import { decodePayload, toBusMessage } from '../envelope.js';
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

/**
 * One member of a durable pull consumer. Pulls with `consume()`, handles up to `concurrency` messages at
 * once but messages of one event stream one at a time in arrival order, keeps the ack deadline alive while
 * a handler runs (`working()`), acks on success, naks with backoff on failure, and on the last allowed
 * delivery dead-letters the message and terminates it. If the pull loop breaks (server restart), it is
 * started again.
 */
export class ConsumerWorker implements BusSubscription {
  readonly consumer: string;
  readonly done: Promise<void>;
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #streamTails = new Map<string, Promise<void>>();
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
        this.#messages = await consumer.consume({ max_messages: Math.max(2 * this.config.concurrency, 10) });
        if (this.#stopped) this.#messages.stop();
        failures = 0;
        for await (const m of this.#messages) {
          await this.#slot();
          this.#start(m);
          if (this.#stopped) break;
        }
      } catch (e) {
        if (this.#stopped) break;
        this.ctx.onError(e);
      }
      if (!this.#stopped) await sleep(backoffDelay({ initialDelayMs: 100, maxDelayMs: 2_000 }, ++failures, this.ctx.random), this.#wake.signal);
    }
    this.#messages?.stop();
    await Promise.all([...this.#inFlight]);
  }

  async #slot(): Promise<void> {
    while (this.#inFlight.size >= this.config.concurrency) await Promise.race(this.#inFlight);
  }

  #start(m: JsMsg): void {
    const key = m.headers?.get('Tessera-Stream-Id') ?? '';
    const previous = this.#streamTails.get(key) ?? Promise.resolve();
    const task = previous.then(() => this.#handle(m));
    const tail = task.catch(() => undefined);
    this.#streamTails.set(key, tail);
    const tracked = tail.finally(() => {
      this.#inFlight.delete(tracked);
      if (this.#streamTails.get(key) === tail) this.#streamTails.delete(key);
    });
    this.#inFlight.add(tracked);
  }

  async #handle(m: JsMsg): Promise<void> {
    if (isDeadLetterSubject(this.ctx.prefix, m.subject)) return m.ack();
    const deliveries = m.info.redeliveryCount;
    let event;
    try {
      event = decodePayload(m.data);
    } catch (e) {
      await this.#giveUp(m, deliveries, errorText(e));
      return;
    }
    // Keep the ack deadline from passing while a slow handler runs.
    const heartbeat = setInterval(() => m.working(), Math.max(200, Math.floor(this.config.ackWaitMs / 3)));
    try {
      await this.config.handler(toBusMessage(event, m.subject, deliveries, m.seq));
      m.ack();
    } catch (e) {
      if (deliveries >= this.config.maxDeliver) await this.#giveUp(m, deliveries, errorText(e));
      else m.nak(backoffDelay(this.config.backoff, deliveries, this.ctx.random));
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #giveUp(m: JsMsg, deliveries: number, error: string): Promise<void> {
    try {
      await this.ctx.deadLetter(this.config.consumer, m, deliveries, error);
      m.term();
    } catch (e) {
      // Not dead-lettered: let the bus redeliver (or raise its max-deliveries advisory) rather than lose it.
      this.ctx.onError(e);
      m.nak(this.config.backoff.maxDelayMs);
    }
  }
}
