import type { SqlDriver, SqlExecutor } from '../storage/port.js';

interface Item {
  work(tx: SqlExecutor): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for small independent units of work: units submitted while a transaction is running are
 * run together in the next one, each inside its own SAVEPOINT, so one unit that fails rolls back alone and
 * the others still commit. A unit's promise settles only after the shared COMMIT: when it resolves, its
 * writes are durable; if the COMMIT fails, every unit of that batch is rejected. One transaction per batch
 * instead of per unit is what lets a consumer with many handlers in flight keep up.
 */
export class BatchedTransactions {
  #queue: Item[] = [];
  #flushing = false;

  constructor(
    private readonly db: SqlDriver,
    private readonly maxBatch = 64,
  ) {}

  /** Runs `work` in a transaction shared with other queued units (committed together). */
  run<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // Start on the next turn of the event loop, so units arriving in the same burst share the batch.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.maxBatch);
        let outcomes: Outcome[] = [];
        try {
          await this.db.transaction(async (tx) => {
            outcomes = [];
            if (batch.length === 1) {
              // Alone: no savepoint needed, a failure rolls the whole (one-unit) transaction back.
              outcomes.push({ ok: true, value: await batch[0]!.work(tx) });
              return;
            }
            for (const item of batch) outcomes.push(await inSavepoint(tx, item));
          });
        } catch (error) {
          for (const item of batch) item.reject(error);
          continue;
        }
        batch.forEach((item, i) => {
          const o = outcomes[i]!;
          if (o.ok) item.resolve(o.value);
          else item.reject(o.error);
        });
      }
    } finally {
      this.#flushing = false;
    }
  }
}

async function inSavepoint(tx: SqlExecutor, item: Item): Promise<Outcome> {
  await tx.exec('SAVEPOINT tessera_batch_unit');
  try {
    const value = await item.work(tx);
    await tx.exec('RELEASE SAVEPOINT tessera_batch_unit');
    return { ok: true, value };
  } catch (error) {
    await tx.exec('ROLLBACK TO SAVEPOINT tessera_batch_unit');
    await tx.exec('RELEASE SAVEPOINT tessera_batch_unit');
    return { ok: false, error };
  }
}
