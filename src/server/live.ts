import { EventEmitter } from 'node:events';
import type { EventStore, RecordedEvent, Subscription } from '../index.js';
import { logHead } from './head.js';
import { type EventView, eventView } from './json.js';
import type { TesseraMetrics } from './metrics.js';

/**
 * Follows the store's global log from its head: keeps the newest events for the dashboard, the append rate
 * (events per second over the last few seconds) and the per-type append counter, whichever process appended.
 * Emits `event` with each {@link EventView}.
 *
 * @example
 * ```ts
 * const feed = await LiveFeed.start(store, metrics);
 * feed.on('event', (e) => console.log(e.type));
 * console.log(feed.eventsPerSecond());
 * ```
 */
export class LiveFeed extends EventEmitter {
  readonly #recent: EventView[] = [];
  /** Events seen per whole second (epoch seconds), for the last {@link WINDOW_S} seconds. */
  readonly #perSecond = new Map<number, number>();
  #sub: Subscription | null = null;
  #head = 0n;

  private constructor(private readonly metrics: TesseraMetrics, private readonly keep: number, private readonly now: () => number) {
    super();
  }

  /** Loads the newest `keep` events and starts following the log after them. */
  static async start(store: EventStore, metrics: TesseraMetrics, o: { keep?: number; now?: () => number; pollIntervalMs?: number } = {}): Promise<LiveFeed> {
    const feed = new LiveFeed(metrics, o.keep ?? 100, o.now ?? Date.now);
    const head = await logHead(store);
    const from = head - BigInt(feed.keep) + 1n;
    for (const e of await store.readAll({ fromPosition: from < 1n ? 1n : from, maxCount: feed.keep })) feed.#recent.push(eventView(e));
    feed.#head = head;
    feed.#sub = store.subscribeToAll({ fromPosition: head + 1n, handler: (e) => feed.#seen(e), pollIntervalMs: o.pollIntervalMs ?? 100, batchSize: 500 });
    return feed;
  }

  #seen(e: RecordedEvent): void {
    const view = eventView(e);
    this.#head = e.globalPosition;
    this.#recent.push(view);
    if (this.#recent.length > this.keep) this.#recent.shift();
    const second = Math.floor(this.now() / 1000);
    this.#perSecond.set(second, (this.#perSecond.get(second) ?? 0) + 1);
    for (const s of this.#perSecond.keys()) if (s < second - WINDOW_S) this.#perSecond.delete(s);
    this.metrics.eventsAppended.inc({ type: e.type });
    this.emit('event', view);
  }

  /** Newest events, oldest first. */
  recent(): EventView[] {
    return [...this.#recent];
  }

  /** Position of the newest event seen. */
  get head(): bigint {
    return this.#head;
  }

  /** Mean rate over the last complete seconds of the window. */
  eventsPerSecond(): number {
    const current = Math.floor(this.now() / 1000);
    let n = 0;
    for (const [s, count] of this.#perSecond) if (s < current && s >= current - WINDOW_S) n += count;
    return n / WINDOW_S;
  }

  async stop(): Promise<void> {
    await this.#sub?.stop();
    this.removeAllListeners();
  }
}

const WINDOW_S = 5;
