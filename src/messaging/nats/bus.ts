import {
  AckPolicy,
  DeliverPolicy,
  headers as natsHeaders,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  nanos,
  type Subscription,
} from 'nats';
import { InvalidArgumentError, isTesseraError, StoreClosedError } from '../../errors.js';
import type { RecordedEvent } from '../../eventstore/types.js';
import { requireOptionsObject, requirePositiveInt } from '../../support/validate.js';
import { encodePayload, eventHeaders, HEADERS } from '../envelope.js';
import { resolveSubscribe, type ResolvedSubscribe } from '../options.js';
import { deadLetterSubject, subjectFor } from '../subjects.js';
import type { BusSubscribeOptions, BusSubscription, DeadLetter, EventBus, PublishAck, PublishAllResult } from '../types.js';
import { requireRecordedEvent } from '../validate-event.js';
import { isNotFound } from './connect.js';
import { readDeadLetters } from './dead-letters.js';
import { ConsumerWorker } from './worker.js';

/** Settings a {@link NatsEventBus} runs with (already validated). */
export interface NatsBusConfig {
  url: string;
  streamName: string;
  prefix: string;
  publishTimeoutMs: number;
  /** Publishes in flight at once in `publishAll`. */
  maxInFlight: number;
  random: () => number;
  onError: (e: unknown) => void;
}

interface Advisory {
  stream_seq?: number;
  deliveries?: number;
}

/**
 * The NATS JetStream adapter of the {@link EventBus} port: one JetStream stream per store, subjects
 * `<prefix>.<category>.<eventType>`, the event id as `Nats-Msg-Id` (JetStream drops a retried publish inside
 * its duplicate window), durable pull consumers with explicit acks, nak with backoff, and dead letters on
 * `<prefix>.dlq.<consumer>` after `maxDeliver` deliveries. Open it with {@link openNatsEventBus} or
 * `openEventBus('nats://…')`.
 *
 * @example
 * ```ts
 * const bus = await openNatsEventBus({ url: 'nats://127.0.0.1:4222' });
 * console.log(bus.streamName, bus.prefix); // TESSERA_EVENTS tessera
 * ```
 */
export class NatsEventBus implements EventBus {
  readonly kind = 'nats-jetstream' as const;
  readonly prefix: string;
  readonly streamName: string;
  readonly #workers = new Set<ConsumerWorker>();
  readonly #advisories = new Map<string, Subscription>();
  #closed = false;

  constructor(
    readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly cfg: NatsBusConfig,
  ) {
    this.prefix = cfg.prefix;
    this.streamName = cfg.streamName;
  }

  async publish(event: RecordedEvent): Promise<PublishAck> {
    this.#assertOpen();
    const e = requireRecordedEvent(event);
    return this.#send(e);
  }

  async publishAll(events: readonly RecordedEvent[]): Promise<PublishAllResult> {
    this.#assertOpen();
    if (!Array.isArray(events)) throw new InvalidArgumentError('events', 'is not an array', 'Pass an array of recorded events.');
    const checked = events.map((e, i) => requireRecordedEvent(e, `events[${i}]`));
    const acks: PublishAck[] = [];
    const sent: Promise<PublishAck>[] = [];
    // A sliding window: sent in order on one connection, so JetStream stores them in order; acks are taken
    // in order too and the first failure ends the acknowledged prefix (later publishes that did land are
    // deduplicated when the caller retries them).
    while (acks.length < checked.length) {
      while (sent.length < checked.length && sent.length - acks.length < this.cfg.maxInFlight) {
        const p = this.#send(checked[sent.length]!);
        p.catch(() => undefined);
        sent.push(p);
      }
      try {
        acks.push(await sent[acks.length]!);
      } catch (error) {
        await Promise.allSettled(sent);
        return { acks, error };
      }
    }
    return { acks };
  }

  async #send(e: RecordedEvent): Promise<PublishAck> {
    const h = natsHeaders();
    for (const [k, v] of eventHeaders(e)) h.set(k, v);
    const ack = await this.js.publish(subjectFor(this.prefix, e.streamId, e.type), encodePayload(e), {
      msgID: e.id,
      headers: h,
      timeout: this.cfg.publishTimeoutMs,
      expect: { streamName: this.streamName },
    });
    return { sequence: ack.seq, duplicate: ack.duplicate };
  }

  async subscribe(options: BusSubscribeOptions): Promise<BusSubscription> {
    this.#assertOpen();
    const config = resolveSubscribe(this.prefix, options, 32);
    await this.#ensureConsumer(config);
    this.#listenForMaxDeliveries(config.consumer);
    const worker = new ConsumerWorker(
      {
        js: this.js,
        stream: this.streamName,
        prefix: this.prefix,
        random: this.cfg.random,
        deadLetter: (consumer, m, deliveries, error) => this.#deadLetter(consumer, m, deliveries, error),
        onError: this.cfg.onError,
      },
      config,
    );
    this.#workers.add(worker);
    void worker.done.finally(() => this.#workers.delete(worker));
    return worker;
  }

  async #ensureConsumer(config: ResolvedSubscribe): Promise<void> {
    const existing = await this.jsm.consumers.info(this.streamName, config.consumer).catch((e: unknown) => {
      if (isNotFound(e)) return null;
      throw e;
    });
    if (existing !== null) {
      if ((existing.config.filter_subject ?? `${this.prefix}.>`) !== config.filter) {
        throw new InvalidArgumentError(
          'consumer',
          `"${config.consumer}" already exists with filter "${existing.config.filter_subject}", not "${config.filter}"`,
          'Subscribe with the same category/eventType as the consumer was created with, or use another consumer name.',
        );
      }
      return;
    }
    await this.jsm.consumers.add(this.streamName, {
      durable_name: config.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: config.filter,
      max_deliver: config.maxDeliver,
      ack_wait: nanos(config.ackWaitMs),
      max_ack_pending: 1_000,
    });
  }

  // A message whose last delivery timed out (its handler's process died) never reaches a handler's catch:
  // JetStream announces it with an advisory, and any live member of the group dead-letters it.
  #listenForMaxDeliveries(consumer: string): void {
    if (this.#advisories.has(consumer)) return;
    const sub = this.connection.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.streamName}.${consumer}`);
    this.#advisories.set(consumer, sub);
    void (async () => {
      for await (const msg of sub) {
        try {
          const adv = msg.json<Advisory>();
          if (typeof adv.stream_seq !== 'number') continue;
          const stored = await this.jsm.streams.getMessage(this.streamName, { seq: adv.stream_seq });
          await this.#publishDeadLetter(consumer, stored.subject, stored.data, stored.header, adv.stream_seq, adv.deliveries ?? 0, 'ack wait expired on the last delivery');
        } catch (e) {
          this.cfg.onError(e);
        }
      }
    })();
  }

  async #deadLetter(consumer: string, m: JsMsg, deliveries: number, error: string): Promise<void> {
    await this.#publishDeadLetter(consumer, m.subject, m.data, m.headers, m.seq, deliveries, error);
  }

  async #publishDeadLetter(
    consumer: string,
    subject: string,
    data: Uint8Array,
    original: { keys(): string[]; get(k: string): string } | undefined,
    sequence: number,
    deliveries: number,
    error: string,
  ): Promise<void> {
    const h = natsHeaders();
    for (const k of original?.keys() ?? []) if (k.startsWith('Tessera-')) h.set(k, original!.get(k));
    h.set(HEADERS.deadLetterConsumer, consumer);
    h.set(HEADERS.deadLetterSequence, String(sequence));
    h.set(HEADERS.deadLetterDeliveries, String(deliveries));
    h.set(HEADERS.deadLetterError, encodeURIComponent(error));
    h.set('Tessera-Original-Subject', subject);
    await this.js.publish(deadLetterSubject(this.prefix, consumer), data, {
      msgID: `dlq:${consumer}:${sequence}`,
      headers: h,
      timeout: this.cfg.publishTimeoutMs,
    });
  }

  async deadLetters(options?: { consumer?: string; limit?: number }): Promise<DeadLetter[]> {
    this.#assertOpen();
    const o = requireOptionsObject(options, 'options') as { consumer?: string; limit?: number };
    const limit = o.limit === undefined ? 1_000 : requirePositiveInt(o.limit, 'limit');
    return readDeadLetters(this.js, this.jsm, this.streamName, this.prefix, o.consumer, limit);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#workers].map((w) => w.stop()));
    for (const sub of this.#advisories.values()) sub.unsubscribe();
    try {
      await this.connection.drain();
    } catch (e) {
      if (!isTesseraError(e)) await this.connection.close().catch(() => undefined);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError('event bus');
  }
}
