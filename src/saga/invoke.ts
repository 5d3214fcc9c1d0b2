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
  readonly #ac = new AbortController();
  #kind: AbortKind | null = null;

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Aborts the attempt (the first reason wins). */
  abort(kind: AbortKind, reason: unknown): void {
    if (this.#ac.signal.aborted) return;
    this.#kind = kind;
    this.#ac.abort(reason);
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
      if (this.#ac.signal.aborted) resolve('aborted');
      else this.#ac.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    try {
      const attempt = Promise.resolve().then(fn);
      // A rejection after the abort must not surface as an unhandled rejection.
      attempt.catch(() => undefined);
      const value = await Promise.race([attempt, aborted]);
      if (this.#kind !== null) return { ok: false, kind: this.#kind, error: this.#ac.signal.reason };
      return { ok: true, value };
    } catch (e) {
      if (this.#kind !== null) return { ok: false, kind: this.#kind, error: this.#ac.signal.reason };
      return { ok: false, kind: 'error', error: e };
    } finally {
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
