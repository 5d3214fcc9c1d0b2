import { InvalidArgumentError, isTesseraError, SagaNotFoundError, SagaTimeoutError, SagaVersionMissingError, StoreClosedError, UnknownSagaError } from '../errors.js';
import type { StoreTransaction } from '../eventstore/store.js';
import { sleep } from '../support/clock.js';
import { encodeJson } from '../support/json.js';
import { describe, requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { deliverSignal, redriveCompensation, requestCancel } from './commands.js';
import { lifecycleEvent } from './events.js';
import type { TransitionResult } from './transition.js';
import { CommitBatcher } from './batch.js';
import { migrateSagaTables } from './migrate.js';
import { PgTransitionBatch } from './pg-apply.js';
import { type Resolved, resolveEngineOptions } from './options.js';
import { anyRunnable, claimRunnable, loadInstanceWithSteps, type RunnableFilter } from './repo.js';
import { decodeInstance, decodeStep, type InstanceRow, toSagaInstance, type StepRow } from './rows.js';
import { SagaRun } from './runner.js';
import { ACTIVE_STATUSES, T_INSTANCES, T_STEPS } from './schema.js';
import { EngineWake, SagaWakeups } from './wake.js';
import { isTerminalStatus, type SagaEngine, type SagaEngineOptions, type SagaInstance, type SagaListOptions, type SagaStatus, TERMINAL_STATUSES } from './types.js';

/** Saga ids appear in the stream id `saga-<id>`; keep them well under the stream id limit. */
export const SAGA_ID_MAX_BYTES = 256;
/** How long news of work that turned out to be nothing (see #news) is ignored. */
const NEWS_MUTE_MS = 50;
const STATUSES: readonly SagaStatus[] = ['running', 'waiting', 'compensating', 'cancelling', ...TERMINAL_STATUSES];

/** Counters of one engine (for tests, metrics and the chaos suite). */
export interface SagaEngineStats {
  claimed: number;
  /** Transitions refused because another runner had taken the saga over: nothing of them was stored. */
  fencedWrites: number;
  errors: number;
}


/**
 * Opens the durable saga orchestrator on an event store's own database: creates the saga tables if needed,
 * checks that every unfinished saga's definition version is available, and starts claiming and running work at
 * once. Several engines (in several processes) may share one store; leases with fencing tokens keep each saga
 * on one runner at a time, and a crashed runner's sagas are taken over when its lease expires.
 *
 * @example
 * ```ts
 * const store = await openSqliteEventStore({ path: './data/app.db' });
 * const engine = await openSagaEngine({ store, sagas: [orderSaga] });
 * await engine.start('order', 'order-42', { orderId: '42', amount: 30 });
 * const done = await engine.waitForTerminal('order-42', { timeoutMs: 10_000 });
 * console.log(done.status); // 'completed' or 'compensated'
 * await engine.stop();
 * ```
 */
export async function openSagaEngine(opts: SagaEngineOptions): Promise<SagaEngine & { stats(): SagaEngineStats }> {
  const o = resolveEngineOptions(opts);
  await migrateSagaTables(o.db);
  const inFlight = await o.db.query<{ saga_type: string; def_version: unknown }>(
    `SELECT saga_type, def_version FROM ${T_INSTANCES} WHERE status IN ${ACTIVE_STATUSES} GROUP BY saga_type, def_version`,
  );
  const missing = new Map<string, number[]>();
  for (const r of inFlight) {
    const have = o.defs.get(String(r.saga_type));
    const v = Number(r.def_version);
    if (have !== undefined && !have.has(v)) missing.set(String(r.saga_type), [...(missing.get(String(r.saga_type)) ?? []), v]);
  }
  for (const [name, versions] of missing) throw new SagaVersionMissingError(name, versions.sort((a, b) => a - b));
  return new TesseraSagaEngine(o, await PgTransitionBatch.open(o.store, o.db), await SagaWakeups.channel(o.db));
}


class TesseraSagaEngine implements SagaEngine {
  readonly #o: Resolved;
  readonly #filter: RunnableFilter;
  readonly #active = new Map<string, SagaRun>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stats: SagaEngineStats = { claimed: 0, fencedWrites: 0, errors: 0 };
  #stopped = false;
  readonly #stopping = new AbortController();
  #reserved = 0;
  readonly #wake = new EngineWake();
  /** PostgreSQL: news of work between the engines on the schema (see wake.ts); null on SQLite. */
  readonly #wakeups: SagaWakeups | null;
  /** The last wake-up came from a commit's news of unleased work (see #news). */
  #fromNews = false;
  /** News that led to nothing claimable is ignored until then. */
  #newsMutedUntil = 0;
  readonly #changed = new Set<() => void>();
  /** waitForTerminal calls waiting on a saga this engine runs: handed its committed end state (no read needed). */
  readonly #finals = new Map<string, Set<(final: SagaInstance | null) => void>>();
  readonly #loop: Promise<void>;
  readonly #batcher: CommitBatcher;
  readonly #transact: <T>(work: (tx: StoreTransaction) => Promise<T>) => Promise<T>;

  readonly #pg: PgTransitionBatch | null;

  constructor(o: Resolved, pg: PgTransitionBatch | null, channel: string | null) {
    this.#o = o;
    this.#pg = pg;
    const listen = o.maxConcurrent > 0 ? { wake: this.#wake, random: o.random, toggle: pg !== null, hasRuns: () => this.#active.size > 0 } : null;
    this.#filter = new Map([...o.defs].map(([name, versions]) => [name, [...versions.keys()]]));
    this.#wakeups = channel === null ? null : new SagaWakeups(o.db, channel, listen);
    if (listen !== null) {
      pg?.watch(this.#filter, (work) => {
        this.#wakeups?.committed();
        if (work) this.#news();
      });
    }
    // SQLite has one writer: one batch at a time gathers the most. PostgreSQL commits others meanwhile.
    this.#batcher = new CommitBatcher(o.store, { pg, maxInFlight: o.db.dialect === 'sqlite' ? 1 : 2, maxBatch: 64, lone: () => this.#active.size + this.#reserved <= 1 });
    this.#transact = (work) => this.#batcher.submit(work);
    this.#loop = o.maxConcurrent > 0 ? this.#run() : Promise.resolve();
  }

  get runnerId(): string {
    return this.#o.runnerId;
  }

  stats(): SagaEngineStats {
    return { ...this.#stats };
  }

  #kick(): void {
    this.#wake.notify();
  }

  /** A commit saw a saga that some engine may claim now: look for work, if there is room for it. */
  #news(): void {
    if (this.#stopped || this.#free() <= 0 || this.#o.clock.now() < this.#newsMutedUntil) return;
    this.#fromNews = true;
    this.#kick();
  }

  #free(): number {
    return this.#o.maxConcurrent - this.#active.size - this.#reserved;
  }

  #notifyChanged(): void {
    for (const f of [...this.#changed]) f();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      // Wake-ups from here on (during the claim too) make the loop claim again instead of sleeping.
      this.#wake.pending = false;
      try {
        await this.#claim();
      } catch (e) {
        if (isTesseraError(e, 'STORE_CLOSED')) break;
        this.#stats.errors++;
        this.#o.onError(e);
      }
      if (this.#stopped) break;
      if (!this.#wake.pending) await this.#wake.wait(this.#o.pollMs, this.#stopping.signal);
    }
  }

  async #claim(): Promise<void> {
    const { db, clock, runnerId, leaseMs } = this.#o;
    const fromNews = this.#fromNews;
    this.#fromNews = false;
    if (this.#free() <= 0) return;
    if (!(await anyRunnable(db, this.#filter, clock.now()))) {
      // News can be stale (read before this engine's own claim of that saga committed): mute it only briefly.
      if (fromNews) this.#newsMutedUntil = clock.now() + Math.min(this.#o.pollMs, NEWS_MUTE_MS);
      return;
    }
    // Counted again after the await, and held while claiming: local starts may have taken slots meanwhile.
    const free = this.#free();
    if (free <= 0) return;
    this.#reserved += free;
    let rows: InstanceRow[];
    try {
      rows = await db.transaction((tx) => claimRunnable(tx, db.dialect, { runnerId, now: clock.now(), leaseMs, limit: free, filter: this.#filter }));
    } finally {
      this.#reserved -= free;
    }
    this.#stats.claimed += rows.length;
    for (const row of rows) this.#launch(row, null);
    if (rows.length === free) this.#kick();
  }

  #launch(row: InstanceRow, first: StepRow | null, fresh = false): void {
    const { clock, leaseMs } = this.#o;
    const def = this.#o.defs.get(row.sagaType)!.get(row.version)!;
    const run = new SagaRun(
      {
        store: this.#o.store,
        def,
        leaseMs,
        lockRetryMs: this.#o.recheckMs * 4,
        clock,
        random: this.#o.random,
        events: this.#o.events,
        transact: this.#transact,
        apply: (t) => this.#batcher.apply(t),
        wakeAt: (at) => this.#wakeAt(at),
        onError: (e) => {
          this.#stats.errors++;
          this.#o.onError(e);
        },
        onFenced: () => void this.#stats.fencedWrites++,
      },
      row,
      first,
      fresh,
    );
    this.#active.set(row.sagaId, run);
    // Claimed while stop() was under way: hand it straight back.
    if (this.#stopped) run.halt();
    void run.execute().finally(() => {
      // A freed slot matters only to sagas left unclaimed for want of one; others come by start, signal or poll.
      const wasFull = this.#active.size + this.#reserved >= this.#o.maxConcurrent;
      this.#active.delete(row.sagaId);
      if (this.#active.size === 0) this.#wakeups?.idle();
      const waiters = this.#finals.get(row.sagaId);
      this.#finals.delete(row.sagaId);
      if (waiters !== undefined) {
        const final = run.finalInstance();
        for (const w of waiters) w(final);
      }
      this.#notifyChanged();
      if (wasFull) this.#kick();
    });
  }

  #wakeAt(at: number): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#kick();
    }, Math.min(60_000, Math.max(0, at - this.#o.clock.now())));
    t.unref();
    this.#timers.add(t);
  }

  #assertOpen(): void {
    if (this.#stopped) throw new StoreClosedError('saga engine');
  }

  async start(sagaName: string, sagaId: string, input: unknown): Promise<{ created: boolean }> {
    this.#assertOpen();
    if (typeof sagaName !== 'string') throw new InvalidArgumentError('sagaName', `${describe(sagaName)} is not a string`, 'Pass the name given to defineSaga().');
    const def = this.#o.latest.get(sagaName);
    if (def === undefined) throw new UnknownSagaError(sagaName);
    const id = requireBoundedString(sagaId, 'sagaId', SAGA_ID_MAX_BYTES);
    const json = encodeJson(input === undefined ? null : input, 'saga input');
    const now = this.#o.clock.now();
    const deadlineAt = def.deadlineMs === undefined ? null : now + def.deadlineMs;
    // With room here, the new saga is claimed in its own insert (and its first plain step started there too).
    const first = def.steps[0]!;
    const plain = def.locks === undefined && first.sleepMs === undefined && first.waitForSignal === undefined;
    // The slot is reserved before the insert: concurrent starts must not claim past maxConcurrent.
    const reserve = !this.#stopped && this.#o.maxConcurrent > this.#active.size + this.#reserved;
    const claim = reserve ? { runnerId: this.#o.runnerId, leaseUntil: now + this.#o.leaseMs, firstStep: plain ? first.name : null } : undefined;
    if (reserve) this.#reserved++;
    let r: TransitionResult;
    try {
      const events = this.#o.events ? lifecycleEvent({ sagaId: id, sagaName: def.name, version: def.version, status: 'running' }) : [];
      const insert = { type: def.name, version: def.version, input: json, deadlineAt, leaseOwner: claim?.runnerId ?? null, leaseUntil: claim?.leaseUntil ?? null };
      const start = claim?.firstStep ? { start: { stepNo: 0, phase: 'do' as const, name: claim.firstStep } } : {};
      r = await this.#batcher.apply({ sagaId: id, fence: claim ? 1 : 0, now, insert, events, ...start });
    } finally {
      if (reserve) this.#reserved--;
    }
    if (r.applied && claim) {
      this.#stats.claimed++;
      const row: InstanceRow = {
        sagaId: id, sagaType: def.name, version: def.version, status: 'running', input: json, nextStep: 0, undoOutcome: null, cancelRequested: false,
        wakeAt: null, timerAt: null, deadlineAt, leaseOwner: claim.runnerId, leaseUntil: claim.leaseUntil, fence: 1, error: null, createdAt: now, updatedAt: now,
      };
      this.#launch(row, r.started, true);
    } else if (r.applied) {
      // Not claimed here (no free slot, or a client engine): for a runner here or in another process.
      this.#kick();
      this.#wakeups?.notify();
    }
    return { created: r.applied };
  }

  async get(sagaId: string): Promise<SagaInstance | null> {
    this.#assertOpen();
    const id = requireBoundedString(sagaId, 'sagaId', SAGA_ID_MAX_BYTES);
    const found = await loadInstanceWithSteps(this.#o.db, id);
    return found === null ? null : toSagaInstance(found.row, found.steps);
  }

  async list(opts?: SagaListOptions): Promise<SagaInstance[]> {
    this.#assertOpen();
    const o = requireOptionsObject(opts, 'options') as SagaListOptions;
    if (o.status !== undefined && !STATUSES.includes(o.status)) {
      throw new InvalidArgumentError('status', `${describe(o.status)} is not a saga status`, `Pass one of ${STATUSES.join(', ')}.`);
    }
    const limit = o.limit === undefined ? 1000 : requirePositiveInt(o.limit, 'limit');
    const where = o.status === undefined ? '' : 'WHERE status = ?';
    const params = o.status === undefined ? [limit] : [o.status, limit];
    const rows = (await this.#o.db.query(`SELECT * FROM ${T_INSTANCES} ${where} ORDER BY created_at, saga_id LIMIT ?`, params)).map(decodeInstance);
    if (rows.length === 0) return [];
    const stepRows = await this.#o.db.query(`SELECT * FROM ${T_STEPS} WHERE saga_id IN (${rows.map(() => '?').join(', ')})`, rows.map((r) => r.sagaId));
    const bySaga = new Map<string, StepRow[]>();
    for (const r of stepRows) bySaga.set(String(r.saga_id), [...(bySaga.get(String(r.saga_id)) ?? []), decodeStep(r)]);
    return rows.map((r) => toSagaInstance(r, bySaga.get(r.sagaId) ?? []));
  }

  async waitForTerminal(sagaId: string, opts?: { timeoutMs?: number }): Promise<SagaInstance> {
    const o = requireOptionsObject(opts, 'options') as { timeoutMs?: number };
    const timeoutMs = o.timeoutMs === undefined ? undefined : requirePositiveInt(o.timeoutMs, 'timeoutMs');
    const started = Date.now();
    let status: SagaStatus | 'running here' = 'running here';
    for (;;) {
      // While this engine runs the saga, its run hands over the state it committed last when it ends.
      if (this.#active.has(sagaId)) {
        const final = await this.#finalOf(sagaId, timeoutMs === undefined ? 1_000 : Math.max(0, timeoutMs - (Date.now() - started)));
        if (final !== null) return final;
      }
      if (!this.#active.has(sagaId)) {
        const s = await this.get(sagaId);
        if (s === null) throw new SagaNotFoundError(sagaId);
        if (isTerminalStatus(s.status)) return s;
        status = s.status;
      }
      const left = timeoutMs === undefined ? this.#o.recheckMs : timeoutMs - (Date.now() - started);
      if (left <= 0) throw new SagaTimeoutError(`Saga "${sagaId}" (status ${status})`, timeoutMs ?? 0, true);
      const ac = new AbortController();
      const done = (): void => ac.abort();
      this.#changed.add(done);
      await sleep(Math.min(left, this.#active.has(sagaId) ? 1_000 : this.#o.recheckMs), ac.signal);
      this.#changed.delete(done);
    }
  }

  /** The terminal state the run of `sagaId` ends with; null when it ends otherwise (waiting, lost) or after `ms`. */
  #finalOf(sagaId: string, ms: number): Promise<SagaInstance | null> {
    return new Promise((resolve) => {
      const waiters = this.#finals.get(sagaId) ?? new Set();
      const done = (final: SagaInstance | null): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(final);
      };
      const timer = setTimeout(() => done(null), ms);
      waiters.add(done);
      this.#finals.set(sagaId, waiters);
    });
  }

  async signal(sagaId: string, name: string, payload: unknown, opts: { signalId: string }): Promise<void> {
    this.#assertOpen();
    const id = requireBoundedString(sagaId, 'sagaId', SAGA_ID_MAX_BYTES);
    const signalName = requireBoundedString(name, 'signal name', 200);
    const o = requireOptionsObject(opts, 'options') as { signalId?: unknown };
    const signalId = requireBoundedString(o.signalId, 'signalId', 256);
    const json = encodeJson(payload === undefined ? null : payload, 'signal payload');
    await deliverSignal(this.#o.store, { sagaId: id, name: signalName, payload: json, signalId, now: this.#o.clock.now() });
    this.#wakeAll();
  }

  async cancel(sagaId: string): Promise<void> {
    this.#assertOpen();
    const id = requireBoundedString(sagaId, 'sagaId', SAGA_ID_MAX_BYTES);
    const flagged = await requestCancel(this.#o.store, id, this.#o.clock.now(), this.#o.events);
    if (flagged) this.#active.get(id)?.cancelRequested();
    this.#wakeAll();
  }

  async retryCompensation(sagaId: string): Promise<void> {
    this.#assertOpen();
    const id = requireBoundedString(sagaId, 'sagaId', SAGA_ID_MAX_BYTES);
    await redriveCompensation(this.#o.store, id, this.#o.clock.now(), this.#o.events);
    this.#wakeAll();
  }

  /** After a command committed: the saga may now be claimable, by this engine or one elsewhere. */
  #wakeAll(): void {
    this.#kick();
    this.#wakeups?.notify();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#wakeups?.stopListening();
    const runs = [...this.#active.values()];
    for (const r of runs) r.halt();
    await this.#loop;
    // Each halted run releases its lease (fenced) before it settles.
    while (this.#active.size > 0) await new Promise((r) => setTimeout(r, 5));
    // The released sagas are for the other engines now: tell them instead of leaving them to their polls.
    if (runs.length > 0) this.#wakeups?.notify();
    await this.#wakeups?.drain();
    await this.#pg?.drain();
    this.#notifyChanged();
  }
}
