import pg from 'pg';
import { quoteIdent } from '../storage/postgres.js';
import { backoffDelay } from '../support/backoff.js';

const RECONNECT = { initialDelayMs: 100, maxDelayMs: 2_000 };

/**
 * A dedicated connection that LISTENs on one channel while asked to, and UNLISTENs (keeping the connection)
 * while not. A listening backend pays a small transaction for every NOTIFY in its database, whatever the channel
 * (PostgreSQL signals every listener of the database), so an engine listens only while nothing else tells it
 * about new work (see `wake.ts`). Calls `onWake` on every notification and whenever it starts listening (what
 * was notified meanwhile is lost). A lost connection is reopened with capped backoff while listening is wanted.
 */
export class ToggleListener {
  #client: pg.Client | null = null;
  #listening = false;
  #want = false;
  #closed = false;
  #failures = 0;
  #retry: NodeJS.Timeout | null = null;
  /** The state changes run one after another. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly onWake: () => void,
    private readonly random: () => number,
  ) {}

  /** Listen (true) or not (false); takes effect asynchronously, in call order. */
  set(listen: boolean): void {
    if (this.#closed || listen === this.#want) return;
    this.#want = listen;
    this.#sync();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#queue;
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  #sync(): void {
    this.#queue = this.#queue.then(() => this.#apply()).catch(() => this.#lost());
  }

  async #apply(): Promise<void> {
    if (this.#closed || this.#want === this.#listening) return;
    const client = this.#client ?? (await this.#connect());
    if (client === null) return;
    const want = this.#want;
    await client.query(`${want ? 'LISTEN' : 'UNLISTEN'} ${quoteIdent(this.channel)}`);
    this.#listening = want;
    this.#failures = 0;
    if (want) this.onWake();
  }

  async #connect(): Promise<pg.Client | null> {
    const client = new pg.Client(this.config);
    client.on('error', () => this.#drop(client));
    client.on('end', () => this.#drop(client));
    client.on('notification', () => this.onWake());
    await client.connect();
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return null;
    }
    this.#client = client;
    return client;
  }

  /** The connection went away: nothing listens any more; reconnect if listening is wanted. */
  #drop(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => undefined);
    this.#lost();
  }

  #lost(): void {
    this.#listening = false;
    if (this.#closed || !this.#want || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#sync();
    }, backoffDelay(RECONNECT, ++this.#failures, this.random));
    this.#retry.unref();
  }
}
