import type { NewEvent, RecordedEvent, SnapshotOptions } from '../eventstore/types.js';
import { InvalidArgumentError } from '../errors.js';
import { requireOptionsObject } from '../support/validate.js';

/**
 * The command side of CQRS as pure functions: `decide` turns a command and the current state into new
 * events, `evolve` folds a stored event into the state. No I/O, so deciders are trivial to test
 * (see {@link deciderSpec}) and {@link handleCommand} adds loading, appending and conflict retries.
 *
 * @example
 * ```ts
 * type Cart = { items: number; closed: boolean };
 * type CartCommand = { type: 'AddItem'; sku: string } | { type: 'Checkout' };
 * const cart: Decider<Cart, CartCommand, NewEvent> = {
 *   initialState: () => ({ items: 0, closed: false }),
 *   decide: (c, s) => {
 *     if (s.closed) throw new Error('cart is closed');
 *     return c.type === 'AddItem' ? { type: 'ItemAdded', data: { sku: c.sku } } : { type: 'CheckedOut', data: {} };
 *   },
 *   evolve: (s, e) => (e.type === 'ItemAdded' ? { ...s, items: s.items + 1 } : { ...s, closed: true }),
 * };
 * ```
 */
export interface Decider<S, C, E extends NewEvent = NewEvent> {
  initialState(): S;
  decide(command: C, state: S): E | E[];
  evolve(state: S, event: RecordedEvent): S;
}

/** Options of {@link handleCommand}. */
export interface HandleCommandOptions<S> {
  /**
   * Makes the command idempotent: its events get the ids `${commandId}:0`, `${commandId}:1`, …, and handling
   * the same command id again returns the first result without deciding or appending anything.
   * At most 120 UTF-8 bytes.
   */
  commandId?: string;
  /** Re-load, re-decide and retry this many times after a `ConcurrencyError` (default 5; 0 = never). */
  maxRetries?: number;
  /** Backoff between conflict retries, jittered (default 10 ms doubling to 500 ms). */
  retryDelay?: { initialDelayMs: number; maxDelayMs: number };
  /** Load the stream from (and maintain) a snapshot. */
  snapshot?: SnapshotOptions<S>;
  /** Copied into each event's metadata (see `AppendOptions`). */
  correlationId?: string;
  causationId?: string;
  /** Randomness for the backoff jitter (tests); default `Math.random`. */
  random?: () => number;
}

/** What {@link handleCommand} returns: the state after the command and what was appended. */
export interface CommandResult<S> {
  state: S;
  /** The events this command appended (empty when `decide` returned none). */
  events: RecordedEvent[];
  /** The stream's version after the command. */
  nextExpectedVersion: bigint;
  /** Global position of the command's last event (`0n` when it appended none): pass it to `waitFor`. */
  lastGlobalPosition: bigint;
}

/** Longest command id: its event ids (`${commandId}:${i}`) must fit the 128-byte event id limit. */
export const COMMAND_ID_MAX_BYTES = 120;

/** Validates a decider's shape. */
export function validateDecider(decider: unknown): void {
  const d = requireOptionsObject(decider, 'decider');
  for (const fn of ['initialState', 'decide', 'evolve'] as const) {
    if (typeof d[fn] !== 'function') {
      throw new InvalidArgumentError('decider', `${fn} is not a function`, 'Pass { initialState(), decide(command, state), evolve(state, event) }.');
    }
  }
}

/** `decide`'s result as an array of events, checked for shape (the store checks the rest). */
export function decidedEvents<E extends NewEvent>(result: E | E[]): E[] {
  const events = Array.isArray(result) ? result : [result];
  events.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || typeof (e as { type?: unknown }).type !== 'string') {
      throw new InvalidArgumentError(`decide result[${i}]`, 'is not an event { type, data }', 'Return an event or an array of events from decide.');
    }
  });
  return events;
}
