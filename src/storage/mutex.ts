/**
 * A FIFO async lock. SQLite has one connection per store, so an open async transaction must keep every other
 * statement of this process out until it ends (they would otherwise run inside it).
 *
 * @example
 * ```ts
 * const lock = new Mutex();
 * await lock.runExclusive(async () => { ... });
 * ```
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;

  /** True while some caller holds the lock. */
  get locked(): boolean {
    return this.#held;
  }

  /** Runs `fn` when every earlier caller has finished; callers run one at a time, in arrival order. */
  async runExclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.#held = true;
    try {
      return await fn();
    } finally {
      this.#held = false;
      release();
    }
  }
}
