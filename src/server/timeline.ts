import { runMigrations } from '../storage/migrations.js';
import type { SqlDriver } from '../storage/port.js';

/**
 * One attempt of one saga step, as timed by `instrumentSaga`.
 * @example
 * ```ts
 * const slow = (await timeline.load('o-1')).filter((a: StepAttempt) => (a.durationMs ?? 0) > 1_000);
 * ```
 */
export interface StepAttempt {
  step: string;
  phase: 'do' | 'undo';
  attempt: number;
  startedAt: number;
  durationMs: number | null;
  error: string | null;
}

const TABLE = 'tessera_step_attempts';
const MIGRATIONS = [{
  version: 1,
  name: 'timed saga step attempts',
  sql: `CREATE TABLE ${TABLE} (saga_id TEXT NOT NULL, step TEXT NOT NULL, phase TEXT NOT NULL, attempt INTEGER NOT NULL, started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL, error TEXT, PRIMARY KEY (saga_id, started_at, step, phase, attempt))`,
}];

/**
 * Step attempts per saga for the dashboard's timeline: the newest `maxSagas` sagas in memory and, when opened on
 * a database ({@link StepTimeline.open}), every finished attempt written there in small batches, so durations
 * survive a restart. (The saga's own step log stays the durable record of attempts and errors.)
 *
 * @example
 * ```ts
 * const timeline = await StepTimeline.open(storeDatabase(store));
 * const saga = instrumentSaga(orderSaga(services), { timeline, metrics });
 * console.log(await timeline.load('order-1'));
 * await timeline.close();
 * ```
 */
export class StepTimeline {
  readonly #sagas = new Map<string, StepAttempt[]>();
  #unsaved: Array<[string, StepAttempt]> = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly maxSagas = 2_000, private readonly db?: SqlDriver, flushMs = 250) {
    if (db !== undefined) {
      this.#timer = setInterval(() => void this.flush().catch(() => undefined), flushMs);
      this.#timer.unref();
    }
  }

  /** A timeline that also keeps finished attempts in `db` (its table is created if needed). */
  static async open(db: SqlDriver, o: { maxSagas?: number; flushMs?: number } = {}): Promise<StepTimeline> {
    await runMigrations(db, 'tessera_step_attempts_migrations', MIGRATIONS);
    return new StepTimeline(o.maxSagas, db, o.flushMs);
  }

  /** Records the start of an attempt; returns the function that records its end. */
  begin(sagaId: string, step: string, phase: 'do' | 'undo', attempt: number, now: number): (end: number, error: string | null) => void {
    let list = this.#sagas.get(sagaId);
    if (list === undefined) {
      list = [];
      this.#sagas.set(sagaId, list);
      if (this.#sagas.size > this.maxSagas) this.#sagas.delete(this.#sagas.keys().next().value as string);
    }
    const entry: StepAttempt = { step, phase, attempt, startedAt: now, durationMs: null, error: null };
    list.push(entry);
    return (end, error) => {
      entry.durationMs = end - now;
      entry.error = error;
      if (this.db !== undefined) this.#unsaved.push([sagaId, entry]);
    };
  }

  /** The attempts of one saga this process has seen, in the order they started (empty when unknown). */
  get(sagaId: string): StepAttempt[] {
    return [...(this.#sagas.get(sagaId) ?? [])];
  }

  /** The attempts of one saga: from memory, else from the database (attempts timed before a restart). */
  async load(sagaId: string): Promise<StepAttempt[]> {
    const seen = this.get(sagaId);
    if (seen.length > 0 || this.db === undefined) return seen;
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT step, phase, attempt, started_at, duration_ms, error FROM ${TABLE} WHERE saga_id = ? ORDER BY started_at, phase, step`, [sagaId]);
    return rows.map((r) => ({
      step: String(r.step), phase: r.phase === 'undo' ? 'undo' : 'do', attempt: Number(r.attempt), startedAt: Number(r.started_at),
      durationMs: Number(r.duration_ms), error: r.error === null || r.error === undefined ? null : String(r.error),
    }));
  }

  /** Writes the finished attempts not yet saved, in one transaction. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#unsaved;
      if (batch.length === 0 || this.db === undefined) return;
      this.#unsaved = [];
      await this.db.transaction(async (tx) => {
        for (const [sagaId, a] of batch) {
          await tx.run(`INSERT INTO ${TABLE} (saga_id, step, phase, attempt, started_at, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING`, [sagaId, a.step, a.phase, a.attempt, a.startedAt, a.durationMs ?? 0, a.error]);
        }
      });
    });
    return this.#flushing;
  }

  /** Stops the periodic writes after a last flush. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
