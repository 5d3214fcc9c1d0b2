/** One attempt of one saga step, as timed by {@link instrumentSaga}. */
export interface StepAttempt {
  step: string;
  phase: 'do' | 'undo';
  attempt: number;
  startedAt: number;
  durationMs: number | null;
  error: string | null;
}

/**
 * Step attempts per saga, kept in memory for the newest `maxSagas` sagas (the dashboard's timeline; the saga's
 * own step log stays the durable record of attempts and errors).
 *
 * @example
 * ```ts
 * const timeline = new StepTimeline();
 * const saga = instrumentSaga(orderSaga(services), { timeline, metrics });
 * console.log(timeline.get('order-1'));
 * ```
 */
export class StepTimeline {
  readonly #sagas = new Map<string, StepAttempt[]>();

  constructor(private readonly maxSagas = 2_000) {}

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
    };
  }

  /** The attempts of one saga in the order they started (empty when unknown). */
  get(sagaId: string): StepAttempt[] {
    return [...(this.#sagas.get(sagaId) ?? [])];
  }
}
