import { deepStrictEqual, fail } from 'node:assert/strict';
import type { NewEvent, RecordedEvent } from '../eventstore/types.js';
import { type Decider, decidedEvents, validateDecider } from './decider.js';

/** The event fields a spec compares: `type`, `data`, and `metadata` only when the expected event has it. */
export type ExpectedEvent = Pick<NewEvent, 'type' | 'data' | 'metadata'>;

/** The `when`/`then` part of a decider spec. */
export interface DeciderSpecWhen<S, C> {
  when(command: C): DeciderSpecThen<S>;
}

/** Assertions on what the decider decided; each throws an `AssertionError` on mismatch. */
export interface DeciderSpecThen<S> {
  /** `decide` returned exactly these events (type and data, in order). */
  then(expected: ExpectedEvent[]): void;
  /** `decide` returned no events. */
  thenNothingHappened(): void;
  /** The state after evolving the given and the decided events equals `expected`. */
  thenState(expected: S): void;
  /** `decide` threw; `check` (an error class or a predicate) must accept the error. */
  thenThrows(check?: (new (...args: never[]) => Error) | ((error: unknown) => boolean)): void;
}

/**
 * Given/When/Then tests for a {@link Decider}, with no store: the given events are folded with `evolve`,
 * the command is decided, and the outcome is compared.
 *
 * @example
 * ```ts
 * const spec = deciderSpec(cartDecider);
 * spec.given([{ type: 'ItemAdded', data: { sku: 'A' } }]).when({ type: 'Checkout' }).then([{ type: 'CheckedOut', data: {} }]);
 * spec.given([{ type: 'CheckedOut', data: {} }]).when({ type: 'Checkout' }).thenThrows();
 * ```
 */
export function deciderSpec<S, C, E extends NewEvent>(decider: Decider<S, C, E>): { given(events: NewEvent[]): DeciderSpecWhen<S, C> } {
  validateDecider(decider);
  return {
    given: (events) => ({
      when: (command) => {
        const run = (): { state: S; decided: E[] } => {
          const state = specRecorded(events, 0).reduce((s, e) => decider.evolve(s, e), decider.initialState());
          return { state, decided: decidedEvents(decider.decide(command, state)) };
        };
        return {
          then: (expected) => deepStrictEqual(run().decided.map((e, i) => comparable(e, expected[i])), expected.map((e) => comparable(e, e))),
          thenNothingHappened: () => deepStrictEqual(run().decided.map((e) => comparable(e, e)), []),
          thenState: (expected) => {
            const { state, decided } = run();
            deepStrictEqual(specRecorded(decided, events.length).reduce((s, e) => decider.evolve(s, e), state), expected);
          },
          thenThrows: (check) => {
            let outcome: { threw: false } | { threw: true; error: unknown };
            try {
              run();
              outcome = { threw: false };
            } catch (error) {
              outcome = { threw: true, error };
            }
            if (!outcome.threw) fail('expected decide to throw, but it returned events');
            if (check !== undefined && !accepts(check, outcome.error)) fail(`decide threw an unexpected error: ${String(outcome.error)}`);
          },
        };
      },
    }),
  };
}

function accepts(check: (new (...args: never[]) => Error) | ((error: unknown) => boolean), error: unknown): boolean {
  if (check.prototype instanceof Error || check === Error) return error instanceof (check as new () => Error);
  return (check as (error: unknown) => boolean)(error);
}

function comparable(e: NewEvent, like: ExpectedEvent | undefined): ExpectedEvent {
  return like?.metadata === undefined ? { type: e.type, data: e.data } : ({ type: e.type, data: e.data, metadata: e.metadata } as ExpectedEvent);
}

/** A plain event for a spec, optionally with the stream it belongs to. */
export type SpecEvent = NewEvent & { streamId?: string };

/** Turns plain events into recorded ones with made-up stream fields, for specs that run without a store. */
export function specRecorded(events: SpecEvent[], offset: number, streamId = 'spec-stream'): RecordedEvent[] {
  const versions = new Map<string, number>();
  return events.map((e, i) => {
    const stream = e.streamId ?? streamId;
    const version = (versions.get(stream) ?? (stream === streamId ? offset : 0)) + 1;
    versions.set(stream, version);
    return {
      ...e,
      id: e.id ?? `spec-${offset + i + 1}`,
      streamId: stream,
      streamVersion: BigInt(version),
      globalPosition: BigInt(offset + i + 1),
      recordedAt: new Date(0),
      schemaVersion: 1,
    };
  });
}
