/**
 * Exponential backoff with full jitter, capped.
 *
 * @example
 * ```ts
 * const policy = { initialDelayMs: 50, maxDelayMs: 2_000 };
 * await sleep(backoffDelay(policy, attempt, Math.random));
 * ```
 */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Delay before retry number `attempt` (1-based): random in [base/2, base], base = initial·2^(attempt-1) capped. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}
