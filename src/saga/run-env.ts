import type { StoreTransaction } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import type { Clock } from '../support/clock.js';
import type { Transition, TransitionResult } from './transition.js';
import type { SagaDefinition } from './types.js';

/** Far future: a waiting saga with no timer is woken by a signal or a cancel, not by time. */
export const NEVER = Number.MAX_SAFE_INTEGER;

/** What a run needs from its engine. */
export interface RunEnv {
  store: EventStore;
  def: SagaDefinition;
  leaseMs: number;
  lockRetryMs: number;
  clock: Clock;
  random: () => number;
  /** Whether status changes append lifecycle events. */
  events: boolean;
  /** Runs a transition's transaction, possibly together with other sagas' (group commit; see `batch.ts`). */
  transact<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Applies a transition given as data (one statement with others' on PostgreSQL); rejects with `FencingError` when fenced out. */
  apply(t: Transition): Promise<TransitionResult>;
  /** Asks the engine to look for work at `at` (a retry's backoff ended). */
  wakeAt(at: number): void;
  onError(e: unknown): void;
  /** Counts transitions refused because the fence moved on (this runner had lost the saga). */
  onFenced(): void;
}

/** After a transition: go on with the saga, or hand it back (finished, waiting, lost). */
export type Next = 'continue' | 'yield';

/** A halt (stop or lost lease) unwinds the run without writing anything more. */
export class Halt extends Error {}

