import { SagaTimeoutError } from '../errors.js';

/** Why an invocation ended without a result of its own. */
export type AbortKind = 'timeout' | 'cancel' | 'deadline' | 'halt';

/** The outcome of one step action or compensation attempt. */
export type InvokeResult = { ok: true; value: unknown } | { ok: false; error: unknown; kind: AbortKind | 'error' };

/**
 * Runs one attempt with an AbortSignal that fires on its timeout, on the saga deadline or when the runner
 * aborts it (cancel, stop, lost lease). The attempt is raced against the signal, so a step that ignores its
 * signal cannot hold the runner: its late result is simply not recorded.
 */
export class Invocation {
  // Made only when the step reads `ctx.signal`: an AbortSignal is an EventTarget, and building one for every
  // attempt of steps that never look at it was a measurable share of a sequential saga's CPU time.
  #ac: AbortController | null = null;
  #kind: AbortKind | null = null;
  #reason: unknown;
  #onAbort: (() => void) | null = null;

  /** The attempt's signal (aborted already if the attempt was). */
  get signal(): AbortSignal {
    if (this.#ac === null) {
      this.#ac = new AbortController();
      if (this.#kind !== null) this.#ac.abort(this.#reason);
    }
    return this.#ac.signal;
  }

  /** Aborts the attempt (the first reason wins). */
  abort(kind: AbortKind, reason: unknown): void {
    if (this.#kind !== null) return;
    this.#kind = kind;
    this.#reason = reason;
    this.#ac?.abort(reason);
    this.#onAbort?.();
  }

  async run(fn: () => Promise<unknown>, o: { what: string; timeoutMs?: number | undefined; deadlineInMs?: number | null | undefined; deadlineError?: () => Error }): Promise<InvokeResult> {
    const timers: NodeJS.Timeout[] = [];
    if (o.timeoutMs !== undefined) {
      const ms = o.timeoutMs;
      timers.push(setTimeout(() => this.abort('timeout', new SagaTimeoutError(o.what, ms, true)), ms));
    }
    if (o.deadlineInMs !== undefined && o.deadlineInMs !== null && o.deadlineError) {
      const make = o.deadlineError;
      timers.push(setTimeout(() => this.abort('deadline', make()), Math.max(0, o.deadlineInMs)));
    }
    const aborted = new Promise<'aborted'>((resolve) => {
      if (this.#kind !== null) resolve('aborted');
      else this.#onAbort = () => resolve('aborted');
    });
    try {
      const attempt = Promise.resolve().then(fn);
      // A rejection after the abort must not surface as an unhandled rejection.
      attempt.catch(() => undefined);
      const value = await Promise.race([attempt, aborted]);
      if (this.#kind !== null) return { ok: false, kind: this.#kind, error: this.#reason };
      return { ok: true, value };
    } catch (e) {
      if (this.#kind !== null) return { ok: false, kind: this.#kind, error: this.#reason };
      return { ok: false, kind: 'error', error: e };
    } finally {
      this.#onAbort = null;
      for (const t of timers) clearTimeout(t);
    }
  }
}

/** A short text for an error stored in the saga log. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  try {
    return typeof e === 'string' ? e : JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** Whether a step error may be retried: anything except `retryable === false`. */
export function isRetryable(e: unknown): boolean {
  return !(typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === false);
}
