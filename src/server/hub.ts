import type { ServerResponse } from 'node:http';
import type { EventView } from './json.js';
import { toJson } from './json.js';
import type { LiveFeed } from './live.js';

/**
 * Server-sent events to the dashboards: `events` (new log entries, batched every quarter second), `stats`
 * (rate, projections, saga counts, every `statsIntervalMs` while anyone listens) and whatever else is
 * {@link LiveHub.send}t (rebuild progress, saga changes).
 *
 * @example
 * ```ts
 * const hub = new LiveHub(feed, async () => ({ eventsPerSec: feed.eventsPerSecond() }));
 * hub.attach(reply.raw);
 * hub.send('rebuild', { name: 'order_list', percent: 40 });
 * ```
 */
export class LiveHub {
  readonly #clients = new Set<ServerResponse>();
  #pending: EventView[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #statsBusy = false;

  constructor(feed: LiveFeed, private readonly stats: () => Promise<unknown>, o: { statsIntervalMs?: number; onError?: (e: unknown) => void } = {}) {
    feed.on('event', (e: EventView) => {
      if (this.#clients.size === 0) return;
      this.#pending.push(e);
      if (this.#pending.length > 200) this.#pending.shift();
    });
    this.#timers.push(setInterval(() => this.#flush(), 250));
    this.#timers.push(setInterval(() => void this.#sendStats(o.onError), o.statsIntervalMs ?? 1_000));
    // Proxies close idle streams; a comment line every 15 s keeps them open.
    this.#timers.push(setInterval(() => this.#write(': keep-alive\n\n'), 15_000));
    for (const t of this.#timers) t.unref();
  }

  /** Starts streaming to one client (the response is taken over; it ends when the client goes away). */
  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
    void this.#sendStats(undefined, res);
  }

  /** Sends one named event to every client. */
  send(event: string, data: unknown): void {
    this.#write(`event: ${event}\ndata: ${toJson(data)}\n\n`);
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Ends every stream and stops the timers. */
  close(): void {
    for (const t of this.#timers) clearInterval(t);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.send('events', batch);
  }

  async #sendStats(onError: ((e: unknown) => void) | undefined, only?: ServerResponse): Promise<void> {
    if (this.#clients.size === 0 || (this.#statsBusy && only === undefined)) return;
    this.#statsBusy = only === undefined;
    try {
      const frame = `event: stats\ndata: ${toJson(await this.stats())}\n\n`;
      if (only === undefined) this.#write(frame);
      else if (!only.writableEnded) only.write(frame);
    } catch (e) {
      onError?.(e);
    } finally {
      if (only === undefined) this.#statsBusy = false;
    }
  }

  #write(frame: string): void {
    for (const c of this.#clients) if (!c.writableEnded) c.write(frame);
  }
}
