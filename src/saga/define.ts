import { InvalidArgumentError } from '../errors.js';
import { describe, requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import type { SagaDefinition, SagaDefinitionInput, SagaRetryPolicy, SagaStepDefinition } from './types.js';

/** A retry policy with every field filled in. */
export interface ResolvedRetry {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Step retries when the definition names none (DESIGN.md). */
export const DEFAULT_STEP_RETRY: ResolvedRetry = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 10_000 };
/** Compensation retries when the definition names none (DESIGN.md). */
export const DEFAULT_COMPENSATION_RETRY: ResolvedRetry = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 10_000 };

/** Saga names and step names are stored in TEXT columns and appear in stream ids; keep them short. */
export const SAGA_NAME_MAX_BYTES = 200;

/**
 * Validates and freezes a saga definition: a named, versioned list of steps, each with an action, an optional
 * compensation, a retry policy and a timeout.
 *
 * @example
 * ```ts
 * const transfer = defineSaga<{ from: string; to: string; amount: number }>({
 *   name: 'transfer', version: 1,
 *   steps: [
 *     { name: 'debit', action: async ({ input, idempotencyKey }) => bank.debit(input.from, input.amount, idempotencyKey),
 *       compensate: async ({ input, idempotencyKey }) => bank.credit(input.from, input.amount, idempotencyKey) },
 *     { name: 'credit', action: async ({ input, idempotencyKey }) => bank.credit(input.to, input.amount, idempotencyKey) },
 *   ],
 * });
 * ```
 */
export function defineSaga<I>(def: SagaDefinitionInput<I>): SagaDefinition<I> {
  const d = requireOptionsObject(def, 'saga definition') as unknown as SagaDefinitionInput<I>;
  const name = requireBoundedString(d.name, 'saga name', SAGA_NAME_MAX_BYTES);
  const version = requirePositiveInt(d.version, 'saga version');
  if (d.deadlineMs !== undefined) requirePositiveInt(d.deadlineMs, 'deadlineMs');
  if (d.compensationRetry !== undefined) resolveRetry(d.compensationRetry, 'compensationRetry', DEFAULT_COMPENSATION_RETRY);
  if (d.locks !== undefined && typeof d.locks !== 'function') {
    throw new InvalidArgumentError('locks', 'is not a function', 'Pass locks: (input) => [`order:${input.orderId}`].');
  }
  if (!Array.isArray(d.steps) || d.steps.length === 0) {
    throw new InvalidArgumentError('steps', `${describe(d.steps)} is not a non-empty array`, 'A saga needs at least one step: steps: [{ name, action }].');
  }
  const seen = new Set<string>();
  const steps = d.steps.map((s, i) => {
    const step = validateStep(s, i);
    if (seen.has(step.name)) {
      throw new InvalidArgumentError(`steps[${i}].name`, `"${step.name}" is used by two steps`, 'Give every step of a saga a distinct name.');
    }
    seen.add(step.name);
    return step;
  });
  return Object.freeze({ ...d, name, version, steps, __sagaDefinition: true as const });
}

function validateStep<I>(value: unknown, i: number): SagaStepDefinition<I> {
  const at = `steps[${i}]`;
  const s = requireOptionsObject(value, at) as unknown as SagaStepDefinition<I>;
  requireBoundedString(s.name, `${at}.name`, SAGA_NAME_MAX_BYTES);
  if (typeof s.action !== 'function') {
    throw new InvalidArgumentError(`${at}.action`, 'is not a function', 'Pass action: async (ctx) => { … }.');
  }
  if (s.compensate !== undefined && typeof s.compensate !== 'function') {
    throw new InvalidArgumentError(`${at}.compensate`, 'is not a function', 'Pass compensate: async (ctx) => { … }, or leave it out.');
  }
  if (s.retry !== undefined) resolveRetry(s.retry, `${at}.retry`, DEFAULT_STEP_RETRY);
  if (s.timeoutMs !== undefined) requirePositiveInt(s.timeoutMs, `${at}.timeoutMs`);
  if (s.sleepMs !== undefined) requirePositiveInt(s.sleepMs, `${at}.sleepMs`);
  if (s.idempotent !== undefined && typeof s.idempotent !== 'boolean') {
    throw new InvalidArgumentError(`${at}.idempotent`, `${describe(s.idempotent)} is not a boolean`, 'Pass idempotent: true or false.');
  }
  if (s.transactional !== undefined && typeof s.transactional !== 'boolean') {
    throw new InvalidArgumentError(`${at}.transactional`, `${describe(s.transactional)} is not a boolean`, 'Pass transactional: true or false.');
  }
  if (s.transactional === true && s.timeoutMs !== undefined) {
    throw new InvalidArgumentError(`${at}.timeoutMs`, 'cannot apply to a transactional step', 'Leave timeoutMs out: a transactional step runs inside one database transaction.');
  }
  if (s.waitForSignal !== undefined) {
    const w = requireOptionsObject(s.waitForSignal, `${at}.waitForSignal`) as { name?: unknown; timeoutMs?: unknown };
    requireBoundedString(w.name, `${at}.waitForSignal.name`, SAGA_NAME_MAX_BYTES);
    if (w.timeoutMs !== undefined) requirePositiveInt(w.timeoutMs, `${at}.waitForSignal.timeoutMs`);
  }
  return Object.freeze({ ...s });
}

/** Validates a retry policy and fills in its defaults. */
export function resolveRetry(policy: SagaRetryPolicy | undefined, argument: string, defaults: ResolvedRetry): ResolvedRetry {
  if (policy === undefined) return defaults;
  const p = requireOptionsObject(policy, argument) as unknown as SagaRetryPolicy;
  const maxAttempts = requirePositiveInt(p.maxAttempts, `${argument}.maxAttempts`);
  const initialDelayMs = p.initialDelayMs ?? defaults.initialDelayMs;
  const maxDelayMs = p.maxDelayMs ?? Math.max(defaults.maxDelayMs, initialDelayMs);
  for (const [key, v] of [['initialDelayMs', initialDelayMs], ['maxDelayMs', maxDelayMs]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(`${argument}.${key}`, `${describe(v)} is not a whole number of milliseconds ≥ 0`, `Pass e.g. ${key}: 100.`);
    }
  }
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidArgumentError(`${argument}.maxDelayMs`, `${maxDelayMs} is below initialDelayMs ${initialDelayMs}`, 'Make maxDelayMs at least initialDelayMs.');
  }
  return { maxAttempts, initialDelayMs, maxDelayMs };
}

/** True for a value made by {@link defineSaga}. */
export function isSagaDefinition(value: unknown): value is SagaDefinition {
  return typeof value === 'object' && value !== null && (value as { __sagaDefinition?: unknown }).__sagaDefinition === true;
}
