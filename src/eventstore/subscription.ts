import { AsyncLocalStorage } from 'node:async_hooks';
import { isTesseraError } from '../errors.js';
import { backoffDelay } from '../support/backoff.js';
import { sleep } from '../support/clock.js';
import type { RecordedEvent, RetryPolicy, Subscription } from './types.js';

/** What a subscription needs from its store. */
export interface SubscriptionSource {
  readPage(fromPosition: bigint, maxCount: number, types: string[] | undefined): Promise<RecordedEvent[]>;
  waitForEvents(timeoutMs: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

/** Resolved options of one subscription. */
export interface SubscriptionConfig {
  fromPosition: bigint;
  handler(e: RecordedEvent): Promise<void> | void;
  types: string[] | undefined;
  retry: Required<RetryPolicy>;
  pollIntervalMs: number;
  batchSize: number;
}

export const DEFAULT_HANDLER_RETRY: Required<RetryPolicy> = { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 2_000 };
const READ_RETRY = { initialDelayMs: 50, maxDelayMs: 5_000 };

// Lets stop() notice it is being called from inside the handler, where waiting for the loop would deadlock.
const insideHandler = new AsyncLocalStorage<SubscriptionLoop>();

/**
 * Catch-up then live delivery of the global log, in order, each event once, one handler call at a time.
 * Read failures that are retryable (a lost connection, a busy database) are retried with capped backoff
 * and the loop resumes from its position; a handler that keeps throwing stops the subscription.
 */
export class SubscriptionLoop implements Subscription {
  #position: bigint;
  #stopped = false;
  readonly #wake = new AbortController();
  readonly done: Promise<void>;

  constructor(
    private readonly source: SubscriptionSource,
    private readonly config: SubscriptionConfig,
  ) {
    this.#position = config.fromPosition > 0n ? config.fromPosition - 1n : 0n;
    this.done = this.#run();
    // Marks the promise handled: an unobserved failing subscription must not crash the process.
    this.done.catch(() => undefined);
  }

  get position(): bigint {
    return this.#position;
  }

  /** True once stop() was called or the loop ended. */
  get stopped(): boolean {
    return this.#stopped;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    if (insideHandler.getStore() === this) return;
    await this.done.catch(() => undefined);
  }

  async #run(): Promise<void> {
    let readFailures = 0;
    try {
      while (!this.#stopped) {
        let page: RecordedEvent[];
        try {
          page = await this.source.readPage(this.#position + 1n, this.config.batchSize, this.config.types);
          readFailures = 0;
        } catch (e) {
          if (this.#stopped || isTesseraError(e, 'STORE_CLOSED')) return;
          if (!isTesseraError(e) || !e.retryable) throw e;
          await sleep(backoffDelay(READ_RETRY, ++readFailures, this.source.random), this.#wake.signal);
          continue;
        }
        if (page.length === 0) {
          await this.source.waitForEvents(this.config.pollIntervalMs, this.#wake.signal);
          continue;
        }
        for (const event of page) {
          if (this.#stopped) return;
          await this.#deliver(event);
          this.#position = event.globalPosition;
        }
      }
    } finally {
      this.#stopped = true;
    }
  }

  async #deliver(event: RecordedEvent): Promise<void> {
    const { retry } = this.config;
    for (let attempt = 1; ; attempt++) {
      try {
        await insideHandler.run(this, () => this.config.handler(event));
        return;
      } catch (e) {
        if (attempt >= retry.maxAttempts) throw e;
        await sleep(backoffDelay(retry, attempt, this.source.random), this.#wake.signal);
        // Stopped while backing off: leave the event undelivered; a resume from `position + 1n` gets it.
        if (this.#stopped) throw new SubscriptionStopped();
      }
    }
  }
}

/** Internal: unwinds the loop when stop() interrupts a handler retry (not an error for the caller). */
class SubscriptionStopped extends Error {}

/** Normalises `done` so a stop during a retry resolves instead of rejecting. */
export function settleStopped(loop: SubscriptionLoop): Subscription {
  const done = loop.done.catch((e: unknown) => {
    if (e instanceof SubscriptionStopped) return;
    throw e;
  });
  done.catch(() => undefined);
  return {
    get position() {
      return loop.position;
    },
    stop: () => loop.stop(),
    done,
  };
}
