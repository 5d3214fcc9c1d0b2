import type { StoreTransaction } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import type { Clock } from '../support/clock.js';
import type { IdGenerator } from '../support/ids.js';

/**
 * The saga contract (see DESIGN.md): definitions, the step context, instances and the engine.
 * @module
 */

/** Retry policy of a step or of a saga's compensations. Delays grow exponentially with jitter, capped. */
export interface SagaRetryPolicy {
  maxAttempts: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** What a step's action and compensation receive. */
export interface StepContext<I> {
  readonly sagaId: string;
  readonly input: I;
  /** Results of the steps that succeeded so far, by step name. */
  readonly outputs: Record<string, unknown>;
  /** `sagaId:stepNo:phase`: the same across retries of one step and phase, different between steps and phases. */
  readonly idempotencyKey: string;
  /** 1 on the first attempt of this step and phase. */
  readonly attempt: number;
  /** Aborts on the step timeout, on cancel, on the saga deadline and when the runner stops or loses its lease. */
  readonly signal: AbortSignal;
  /** For a step with `waitForSignal`: the payload of the signal it received. */
  readonly signalPayload?: unknown;
  /** For a `transactional` step: its transaction on the store's database (SQL and appends commit with the result). */
  readonly tx?: StoreTransaction;
}

/** One step of a saga. */
export interface SagaStepDefinition<I> {
  name: string;
  action(ctx: StepContext<I>): Promise<unknown>;
  /**
   * Undoes the action. Runs, in reverse step order, for every step that may have acted: succeeded, started with no
   * result (a crash), and failed too — an action that threw may have acted before throwing, so its failure does
   * not prove it did nothing (only a `transactional` step's failure does: its SQL rolled back). So it must be a
   * no-op when the action never took effect.
   */
  compensate?(ctx: StepContext<I>): Promise<void>;
  /** Default `{ maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 10_000 }`. */
  retry?: SagaRetryPolicy;
  /** Per attempt; the attempt's `signal` aborts and the attempt fails (retryably) after this long. */
  timeoutMs?: number;
  /**
   * Default true: an attempt interrupted by a crash is run again with the same idempotency key. With `false`
   * an attempt of unknown outcome (crash, timeout) is not repeated: the saga compensates instead.
   */
  idempotent?: boolean;
  /** Durable sleep before the action runs (survives restarts; no runner is held meanwhile). */
  sleepMs?: number;
  /** Wait (durably) for a signal of this name before the action runs; the action gets `ctx.signalPayload`. */
  waitForSignal?: { name: string; timeoutMs?: number };
  /**
   * The action is SQL on the store's own database: it runs inside the transaction that records its result and
   * gets `ctx.tx`, so its effect happens exactly once. Use only `ctx.tx` in it (no other I/O: on SQLite the
   * connection is held meanwhile). No `timeoutMs`; a throw rolls its SQL back and counts as a failed attempt.
   */
  transactional?: boolean;
}

/** A saga definition as passed to {@link defineSaga}. */
export interface SagaDefinitionInput<I> {
  name: string;
  /** Unfinished sagas stay on the version they started with. */
  version: number;
  /** The whole saga must finish within this long after start, or it is cancelled (through `cancelling`, compensating). */
  deadlineMs?: number;
  /** Default `{ maxAttempts: 5 }` (delays 100 ms → 10 s). */
  compensationRetry?: SagaRetryPolicy;
  /** Resources this saga holds a semantic lock on from its first step to its end (e.g. `order:42`). */
  locks?(input: I): string[];
  steps: Array<SagaStepDefinition<I>>;
}

/** A validated, frozen saga definition (the result of {@link defineSaga}). */
export interface SagaDefinition<I = unknown> extends SagaDefinitionInput<I> {
  readonly __sagaDefinition: true;
}

/** Every status a saga can be in; the last four are terminal. */
export type SagaStatus =
  | 'running'
  | 'waiting'
  | 'compensating'
  | 'cancelling'
  | 'completed'
  | 'compensated'
  | 'cancelled'
  | 'compensation_failed';

/** One row of a saga's step log. */
export interface SagaStepRecord {
  name: string;
  phase: 'do' | 'undo';
  state: 'started' | 'succeeded' | 'failed';
  attempts: number;
  error?: string;
}

/** A saga instance as stored. */
export interface SagaInstance {
  id: string;
  name: string;
  version: number;
  status: SagaStatus;
  input: unknown;
  /** Results of the steps that succeeded, by step name. */
  outputs: Record<string, unknown>;
  /** Forward rows in step order, then compensation rows in the order they ran. */
  steps: SagaStepRecord[];
  error?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Options of {@link openSagaEngine}. */
export interface SagaEngineOptions {
  store: EventStore;
  /** Definitions of any input type (step methods are bivariant, so `SagaDefinition<Order>` fits). */
  sagas: SagaDefinition[];
  /** Names this runner in leases (default: a UUIDv7). */
  runnerId?: string;
  /** How long a claim lasts without renewal (default 15 000 ms); renewed every third of it. */
  leaseMs?: number;
  /**
   * How often to look for runnable sagas when nothing wakes the engine sooner. Local starts, signals, cancels
   * and retry timers wake it at once; on PostgreSQL so do those of other processes (LISTEN/NOTIFY on the
   * schema's saga channel), so there the poll only finds sagas whose runner died (expired leases) and covers
   * lost notifications: default 1,000 ms on PostgreSQL, 25 ms on SQLite (which has no notifications).
   * `waitForTerminal` re-reads a saga another process runs every 25 ms, or this interval when shorter.
   */
  pollIntervalMs?: number;
  /** Sagas run at once by this engine (default 16). 0 makes a client that starts and reads but runs nothing. */
  maxConcurrent?: number;
  clock?: Clock;
  ids?: IdGenerator;
  random?: () => number;
  /**
   * Append lifecycle events (`SagaStarted`, `SagaCompleted`, …) to `saga-<id>` in each status change's
   * transaction (default true). On PostgreSQL they ride in the transition's one statement and commit (plus a NOTIFY
   * in that commit that wakes subscribers), unless the store has append hooks (inline projections): then they go
   * through the store's transactional append, statement by statement. Off, sagas commit without touching the
   * event log: a little faster, with the same durability and fencing.
   */
  lifecycleEvents?: boolean;
  /** Errors of the background loop (database unreachable…); default: printed with console.error. */
  onError?(error: unknown): void;
}

/** Options of {@link SagaEngine.list}. */
export interface SagaListOptions {
  status?: SagaStatus;
  limit?: number;
}

/** The durable saga orchestrator. */
export interface SagaEngine {
  readonly runnerId: string;
  /** Idempotent per saga id: a second start with the same id returns `{ created: false }`. */
  start(sagaName: string, sagaId: string, input: unknown): Promise<{ created: boolean }>;
  get(sagaId: string): Promise<SagaInstance | null>;
  list(opts?: SagaListOptions): Promise<SagaInstance[]>;
  waitForTerminal(sagaId: string, opts?: { timeoutMs?: number }): Promise<SagaInstance>;
  /** Delivers a signal once per `signalId` (redeliveries are ignored). */
  signal(sagaId: string, name: string, payload: unknown, opts: { signalId: string }): Promise<void>;
  /**
   * Cancels a running or waiting saga: it goes through `cancelling` (its started steps compensated, in reverse)
   * to `cancelled`. A saga no runner holds turns at once; a held one when its runner next commits or renews
   * its lease (an in-flight step's `signal` aborts then; at once when the runner is this engine).
   * A no-op on a saga already turning back; a `SagaStateError` on a finished one.
   */
  cancel(sagaId: string): Promise<void>;
  retryCompensation(sagaId: string): Promise<void>;
  /** Stops this runner (its sagas are released for others); does not close the store. */
  stop(): Promise<void>;
}

/** The statuses after which nothing more happens (except retryCompensation on `compensation_failed`). */
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['completed', 'compensated', 'cancelled', 'compensation_failed'];

/** True for a terminal status. */
export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}
