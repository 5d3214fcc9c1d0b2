/**
 * Wakes waiting subscriptions: resolved on every local commit (and, on PostgreSQL, on every notification
 * from another process). Waiters also time out, so polling covers writers nobody could notify about.
 */
export class WakeSignal {
  #waiters = new Set<() => void>();

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiters) w();
  }

  /** Resolves on the next notify, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
