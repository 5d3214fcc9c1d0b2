import { isTesseraError, SagaDeadlineExceededError, SagaTimeoutError } from '../errors.js';
import { storeDatabase, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { NewEvent } from '../eventstore/types.js';
import { backoffDelay } from '../support/backoff.js';
import { encodeJson } from '../support/json.js';
import { requestCancel } from './commands.js';
import { DEFAULT_COMPENSATION_RETRY, DEFAULT_STEP_RETRY, resolveRetry } from './define.js';
import { lifecycleEvent, sagaStreamId } from './events.js';
import { errorText, Invocation, isRetryable, type InvokeResult } from './invoke.js';
import { acquireLocks, consumeSignal, deleteStep, fencedUpdate, findSignal, finishStep, type InstanceChanges, loadSteps, noteChanges, releaseLocks, renewLease, startStep } from './repo.js';
import { type InstanceRow, stepContext, stepKey, type StepRow, toSagaInstance } from './rows.js';
import type { Transition, TransitionResult } from './transition.js';
import { Halt, NEVER, type Next, type RunEnv } from './run-env.js';
import { isTerminalStatus, type SagaInstance, type SagaStepDefinition } from './types.js';

/**
 * Runs one claimed saga until it finishes, must wait (backoff, sleep, signal, lock) or the lease is lost.
 * Every transition is one transaction that starts with the fenced update of the instance row, records the
 * step rows, appends lifecycle events and, where possible, already records the next step as started.
 */
export class SagaRun {
  readonly #env: RunEnv;
  #row: InstanceRow;
  #steps = new Map<string, StepRow>();
  #pre: StepRow | null = null;
  #current: Invocation | null = null;
  #halted = false;
  #lost = false;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #fresh: boolean;

  /**
   * `first`: the first step, already recorded as started in the commit that created and claimed the saga.
   * `fresh`: this engine has just created the saga, so its log holds nothing but `first` (no need to read it).
   */
  constructor(env: RunEnv, row: InstanceRow, first: StepRow | null = null, fresh = false) {
    this.#env = env;
    this.#row = row;
    this.#pre = first;
    this.#fresh = fresh;
    if (first !== null) this.#remember(first);
  }

  get sagaId(): string {
    return this.#row.sagaId;
  }

  /** The saga as this run last committed it (what `get` would read), once it is terminal; else null. */
  finalInstance(): SagaInstance | null {
    return isTerminalStatus(this.#row.status) ? toSagaInstance(this.#row, [...this.#steps.values()]) : null;
  }

  /** Stops the run: the in-flight attempt is abandoned unrecorded (the next runner re-runs it). */
  halt(): void {
    this.#halted = true;
    this.#current?.abort('halt', new Error('saga runner stopped'));
  }

  /** A local cancel: abort the in-flight forward attempt now instead of at the next heartbeat. */
  cancelRequested(): void {
    this.#row.cancelRequested = true;
    if (this.#row.status === 'running') this.#current?.abort('cancel', new Error('saga cancelled'));
  }

  async execute(): Promise<void> {
    this.#heartbeat = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.#env.leaseMs / 3)));
    try {
      if (!this.#fresh) for (const s of await loadSteps(storeDatabase(this.#env.store), this.sagaId)) this.#steps.set(stepKey(s.stepNo, s.phase), s);
      let next: Next = 'continue';
      while (next === 'continue' && !this.#halted) {
        const status = this.#row.status;
        if (status === 'running' || status === 'waiting') next = await this.#forward();
        else if (status === 'compensating' || status === 'cancelling') next = await this.#backward();
        else next = 'yield';
      }
    } catch (e) {
      if (isTesseraError(e, 'LEASE_FENCED')) {
        this.#lost = true;
        this.#env.onFenced();
      } else if (!(e instanceof Halt) && !isTesseraError(e, 'STORE_CLOSED')) {
        this.#env.onError(e);
        // Let another attempt (here or elsewhere) pick it up later rather than spin on the failure.
        const at = this.#env.clock.now() + this.#env.leaseMs;
        if (await this.#commit({ release: true, wake_at: at }).then(() => true, () => false)) this.#env.wakeAt(at);
      }
    } finally {
      clearInterval(this.#heartbeat);
    }
    if (this.#halted && !this.#lost) await this.#commit({ release: true }).catch(() => undefined);
  }

  async #renew(): Promise<void> {
    if (this.#halted) return;
    try {
      const now = this.#env.clock.now();
      const r = await storeTransaction(this.#env.store, (tx) => renewLease(tx.sql, this.sagaId, this.#row.fence, now, now + this.#env.leaseMs));
      if (r !== 'released' && r.cancelRequested) this.cancelRequested();
    } catch (e) {
      if (isTesseraError(e, 'LEASE_FENCED')) {
        this.#lost = true;
        this.#env.onFenced();
        this.halt();
      }
    }
  }

  /** One transaction (shared with other sagas' transitions: group commit): the fenced update, `more`, lifecycle events. */
  async #commit(changes: InstanceChanges, more?: (tx: StoreTransaction) => Promise<void>, events: NewEvent[] = []): Promise<{ cancelRequested: boolean }> {
    const now = this.#env.clock.now();
    const r = await this.#env.transact(async (tx) => {
      const res = await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, now, changes);
      if (more) await more(tx);
      if (events.length > 0) await tx.appendToStream(sagaStreamId(this.sagaId), events);
      return res;
    });
    noteChanges(this.#row, changes, r.cancelRequested, now);
    return r;
  }

  /** A transition given as data (see `transition.ts`): one statement with other sagas' on PostgreSQL. */
  async #apply(t: Omit<Transition, 'sagaId' | 'fence' | 'now' | 'events'> & { events?: NewEvent[] }): Promise<TransitionResult> {
    const now = this.#env.clock.now();
    const r = await this.#env.apply({ ...t, sagaId: this.sagaId, fence: this.#row.fence, now, events: t.events ?? [] });
    noteChanges(this.#row, t.changes ?? {}, r.cancelRequested, now);
    const f = t.finish;
    const before = f === undefined ? undefined : this.#steps.get(stepKey(f.stepNo, f.phase));
    if (f !== undefined && before !== undefined) this.#remember({ ...before, state: f.state, output: r.output ?? f.output, error: f.error, uncertain: f.uncertain, endedAt: now });
    if (r.started !== null) this.#remember(r.started);
    return r;
  }

  #events(status: string, error?: string | null): NewEvent[] {
    if (!this.#env.events) return [];
    return lifecycleEvent({ sagaId: this.sagaId, sagaName: this.#row.sagaType, version: this.#row.version, status, error: error ?? null });
  }

  #remember(s: StepRow): StepRow {
    this.#steps.set(stepKey(s.stepNo, s.phase), s);
    return s;
  }

  async #startStep(tx: StoreTransaction, stepNo: number, phase: 'do' | 'undo'): Promise<StepRow> {
    const name = this.#env.def.steps[stepNo]!.name;
    return this.#remember(await startStep(tx.sql, { sagaId: this.sagaId, stepNo, phase, name, fence: this.#row.fence, now: this.#env.clock.now() }));
  }

  async #finish(tx: StoreTransaction, s: StepRow, state: 'succeeded' | 'failed', o: { output?: string | null; error?: string; uncertain?: boolean } = {}): Promise<void> {
    const now = this.#env.clock.now();
    await finishStep(tx.sql, { sagaId: this.sagaId, stepNo: s.stepNo, phase: s.phase, state, output: o.output ?? null, error: o.error ?? null, uncertain: o.uncertain ?? false, fence: this.#row.fence, now });
    this.#remember({ ...s, state, output: o.output ?? null, error: o.error ?? null, uncertain: o.uncertain ?? false, endedAt: now });
  }

  /** Waits (releasing the saga) until `wakeAt`, the deadline, a signal or a cancel. */
  async #wait(wakeAt: number, changes: InstanceChanges = {}): Promise<Next> {
    const at = Math.min(wakeAt, this.#row.deadlineAt ?? NEVER);
    const { cancelRequested } = await this.#commit({ status: 'waiting', wake_at: at, release: true, ...changes });
    if (cancelRequested) {
      // A cancel arrived while we held the saga, so it only set the flag; parked and released now, nothing
      // would look at the flag before wake_at (never, for a signal). Cancel it again, now that it is free.
      const now = this.#env.clock.now();
      await requestCancel(this.#env.store, this.sagaId, now, this.#env.events);
      this.#env.wakeAt(now);
      return 'yield';
    }
    if (at !== NEVER) this.#env.wakeAt(at);
    return 'yield';
  }

  async #beginUndo(status: 'compensating' | 'cancelling', error: string, more?: (tx: StoreTransaction) => Promise<void>): Promise<Next> {
    const outcome = status === 'cancelling' ? 'cancelled' : 'compensated';
    await this.#commit({ status, undo_outcome: outcome, error, wake_at: null, timer_at: null }, more, this.#events(status, error));
    return 'continue';
  }

  async #invoke(fn: () => Promise<unknown>, what: string, timeoutMs: number | undefined, inv: Invocation, forward: boolean): Promise<InvokeResult> {
    this.#current = inv;
    if (this.#halted) inv.abort('halt', new Error('saga runner stopped'));
    if (forward && this.#row.cancelRequested) inv.abort('cancel', new Error('saga cancelled'));
    const deadline = this.#row.deadlineAt;
    const result = await inv.run(fn, {
      what,
      timeoutMs,
      deadlineInMs: forward && deadline !== null ? deadline - this.#env.clock.now() : null,
      deadlineError: () => new SagaDeadlineExceededError(this.sagaId, this.#env.def.deadlineMs ?? 0),
    });
    this.#current = null;
    // A halted run records nothing of the attempt: the next runner repeats it with the same key.
    if (this.#halted) throw new Halt();
    return result;
  }

  async #forward(): Promise<Next> {
    const env = this.#env;
    const now = env.clock.now();
    const deadlinePassed = this.#row.deadlineAt !== null && now >= this.#row.deadlineAt;
    if (this.#row.cancelRequested || deadlinePassed) {
      // A step recorded as started by the last transition never ran: drop its row rather than undo it.
      const pre = this.#pre;
      this.#pre = null;
      const drop = pre === null ? undefined : async (tx: StoreTransaction) => {
        await deleteStep(tx.sql, this.sagaId, pre.stepNo, pre.phase);
        this.#steps.delete(stepKey(pre.stepNo, pre.phase));
      };
      if (this.#row.cancelRequested) return this.#beginUndo('cancelling', 'cancelled on request', drop);
      return this.#beginUndo('cancelling', new SagaDeadlineExceededError(this.sagaId, env.def.deadlineMs ?? 0).message, drop);
    }
    const i = this.#row.nextStep;
    const step = env.def.steps[i]!;
    const doRow = this.#steps.get(stepKey(i, 'do'));
    let started = this.#pre !== null && this.#pre.stepNo === i && this.#pre.phase === 'do' ? this.#pre : null;
    this.#pre = null;
    let payload: string | null | undefined;
    if (started === null) {
      if (doRow?.state === 'started' && step.idempotent === false) {
        // A crashed runner's attempt of unknown outcome: a non-idempotent step is not repeated.
        return this.#beginUndo('compensating', `Step "${step.name}" was interrupted and is not idempotent`, (tx) =>
          this.#finish(tx, doRow, 'failed', { error: 'interrupted (runner lost)', uncertain: true }),
        );
      }
      if (i === 0 && doRow === undefined && env.def.locks) {
        const resources = env.def.locks(JSON.parse(this.#row.input));
        let busy: string[] = [];
        await this.#commit({}, async (tx) => void (busy = await acquireLocks(tx, this.sagaId, resources, now)));
        if (busy.length > 0) return this.#wait(now + env.lockRetryMs);
      }
      if (step.sleepMs !== undefined && doRow === undefined) {
        if (this.#row.timerAt === null) return this.#wait(now + step.sleepMs, { timer_at: now + step.sleepMs });
        if (now < this.#row.timerAt) return this.#wait(this.#row.timerAt);
      }
      let signalId: string | null = null;
      if (step.waitForSignal !== undefined) {
        const sig = await findSignal(storeDatabase(env.store), this.sagaId, i, step.waitForSignal.name);
        if (sig === null) return this.#noSignal(i, step, now);
        signalId = sig.signalId;
        payload = sig.payload;
      }
      const sid = signalId;
      started =
        sid === null
          ? (await this.#apply({ changes: { status: 'running', wake_at: null }, start: { stepNo: i, phase: 'do', name: step.name } })).started!
          : await this.#env.transact(async (tx) => {
              await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, env.clock.now(), { status: 'running', wake_at: null });
              await consumeSignal(tx.sql, this.sagaId, sid, i);
              return this.#startStep(tx, i, 'do');
            });
      this.#row.status = 'running';
      this.#row.wakeAt = null;
    } else if (step.waitForSignal !== undefined) {
      payload = (await findSignal(storeDatabase(env.store), this.sagaId, i, step.waitForSignal.name))?.payload;
    }
    return this.#runForward(i, step, started, payload);
  }

  async #noSignal(i: number, step: SagaStepDefinition<unknown>, now: number): Promise<Next> {
    const timeoutMs = step.waitForSignal!.timeoutMs;
    const timerAt = this.#row.timerAt ?? (timeoutMs === undefined ? null : now + timeoutMs);
    if (timerAt !== null && now >= timerAt) {
      const error = new SagaTimeoutError(`Waiting for signal "${step.waitForSignal!.name}"`, timeoutMs ?? 0, false).message;
      return this.#beginUndo('compensating', `Step "${step.name}" failed: ${error}`, async (tx) => {
        await this.#finish(tx, await this.#startStep(tx, i, 'do'), 'failed', { error });
      });
    }
    return this.#wait(timerAt ?? NEVER, timerAt === null ? {} : { timer_at: timerAt });
  }

  async #runForward(i: number, step: SagaStepDefinition<unknown>, started: StepRow, payload: string | null | undefined): Promise<Next> {
    const env = this.#env;
    const inv = new Invocation();
    const ctx = stepContext(this.#row, this.#steps.values(), i, 'do', started, inv, payload);
    const encode = (v: unknown): string | null => (v === undefined ? null : encodeJson(v, `output of step "${step.name}"`));
    let res: InvokeResult;
    if (step.transactional) {
      // The action's SQL commits with its result (exactly once); if it throws, both roll back: a known-nil failure.
      try {
        return await this.#forwardSucceeded(i, null, async (tx) => encode(await step.action({ ...ctx, tx })));
      } catch (e) {
        if (isTesseraError(e, 'LEASE_FENCED') || this.#halted) throw e;
        res = { ok: false, kind: 'error', error: e };
      }
    } else {
      res = await this.#invoke(() => step.action(ctx), `Step "${step.name}"`, step.timeoutMs, inv, true);
      if (res.ok) {
        try {
          return await this.#forwardSucceeded(i, encode(res.value));
        } catch (e) {
          if (!isTesseraError(e, 'INVALID_ARGUMENT')) throw e;
          res = { ok: false, kind: 'error', error: e };
        }
      }
    }
    if (res.ok) return 'continue';
    const message = errorText(res.error);
    // Compensated later unless known to have done nothing: an action that threw may have acted before it threw
    // (charged, then lost the reply), and a timed-out one may still be acting. Only a transactional step's failure
    // is known to be nil (its SQL rolled back with the attempt).
    const uncertain = step.transactional !== true;
    const aborted = res.kind !== 'error';
    if (res.kind === 'cancel') {
      return this.#beginUndo('cancelling', 'cancelled on request', (tx) => this.#finish(tx, started, 'failed', { error: message, uncertain }));
    }
    const policy = resolveRetry(step.retry, 'retry', DEFAULT_STEP_RETRY);
    const attempt = started.attempts - started.budgetFrom;
    // A non-idempotent step is not repeated after an attempt that may still be acting (timeout).
    const retry = res.kind !== 'deadline' && isRetryable(res.error) && !(aborted && step.idempotent === false) && attempt < policy.maxAttempts;
    if (retry) {
      const at = env.clock.now() + backoffDelay(policy, attempt, env.random);
      await this.#commit({ wake_at: at, release: true }, (tx) => this.#finish(tx, started, 'failed', { error: message, uncertain }));
      env.wakeAt(at);
      return 'yield';
    }
    // A passed deadline cancels the saga (SAGAS.md: cancel and deadline go through cancelling).
    if (res.kind === 'deadline') return this.#beginUndo('cancelling', message, (tx) => this.#finish(tx, started, 'failed', { error: message, uncertain }));
    return this.#beginUndo('compensating', `Step "${step.name}" failed: ${message}`, (tx) => this.#finish(tx, started, 'failed', { error: message, uncertain }));
  }

  /** Records the step's result and advances; `work` (a transactional action) runs first in the same transaction. */
  async #forwardSucceeded(i: number, result: string | null, work?: (tx: StoreTransaction) => Promise<string | null>): Promise<Next> {
    const steps = this.#env.def.steps;
    const n = i + 1;
    const finish = { stepNo: i, phase: 'do' as const, state: 'succeeded' as const, output: result, error: null, uncertain: false };
    const w = work === undefined ? {} : { work };
    if (n === steps.length) {
      const unlock = this.#env.def.locks !== undefined;
      await this.#apply({ changes: { status: 'completed', next_step: n, release: true, wake_at: null, timer_at: null }, finish, releaseLocks: unlock, events: this.#events('completed'), ...w });
      return 'yield';
    }
    const next = steps[n]!;
    // One commit per transition: the next step's start rides along unless something else must happen first (a
    // cancel flag this write finds is acted on by #forward, which drops the start recorded here).
    const deadlinePassed = this.#row.deadlineAt !== null && this.#env.clock.now() >= this.#row.deadlineAt;
    const startNext = next.sleepMs === undefined && next.waitForSignal === undefined && !deadlinePassed && !this.#halted;
    const r = await this.#apply({ changes: { next_step: n, timer_at: null }, finish, ...w, ...(startNext ? { start: { stepNo: n, phase: 'do' as const, name: next.name } } : {}) });
    this.#pre = r.started;
    return 'continue';
  }

  /** The highest step at or below `from` that still needs its compensation run. */
  #nextUndo(from: number): number | null {
    for (let k = from; k >= 0; k--) {
      const step = this.#env.def.steps[k];
      const done = this.#steps.get(stepKey(k, 'do'));
      if (step?.compensate === undefined || done === undefined) continue;
      // Every step that may have acted is undone: succeeded, started (outcome unknown) or failed (see #runForward).
      // Only a failure known to be nil is skipped: a transactional step rolled back, a signal that never came.
      if (done.state === 'failed' && !done.uncertain) continue;
      if (this.#steps.get(stepKey(k, 'undo'))?.state === 'succeeded') continue;
      return k;
    }
    return null;
  }

  async #finishUndo(more: (tx: StoreTransaction) => Promise<void>): Promise<Next> {
    const status = this.#row.undoOutcome ?? 'compensated';
    await this.#commit({ status, release: true, wake_at: null }, async (tx) => {
      await more(tx);
      await releaseLocks(tx.sql, this.sagaId);
    }, this.#events(status, this.#row.error));
    return 'yield';
  }

  async #backward(): Promise<Next> {
    const env = this.#env;
    const j = this.#nextUndo(Math.min(this.#row.nextStep, env.def.steps.length - 1));
    if (j === null) return this.#finishUndo(async () => undefined);
    const step = env.def.steps[j]!;
    let started = this.#pre !== null && this.#pre.stepNo === j && this.#pre.phase === 'undo' ? this.#pre : null;
    this.#pre = null;
    started ??= await this.#env.transact(async (tx) => {
      await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, env.clock.now(), { next_step: j, wake_at: null });
      return this.#startStep(tx, j, 'undo');
    });
    this.#row.nextStep = j;
    const inv = new Invocation();
    const ctx = stepContext(this.#row, this.#steps.values(), j, 'undo', started, inv);
    const res = await this.#invoke(() => step.compensate!(ctx), `Compensation of step "${step.name}"`, step.timeoutMs, inv, false);
    if (res.ok) {
      const after = this.#nextUndo(j - 1);
      if (after === null) return this.#finishUndo((tx) => this.#finish(tx, started, 'succeeded'));
      await this.#env.transact(async (tx) => {
        await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, env.clock.now(), { next_step: after });
        await this.#finish(tx, started, 'succeeded');
        if (!this.#halted) this.#pre = await this.#startStep(tx, after, 'undo');
      });
      this.#row.nextStep = after;
      return 'continue';
    }
    const message = errorText(res.error);
    const policy = resolveRetry(env.def.compensationRetry, 'compensationRetry', DEFAULT_COMPENSATION_RETRY);
    const attempt = started.attempts - started.budgetFrom;
    if (isRetryable(res.error) && attempt < policy.maxAttempts) {
      const at = env.clock.now() + backoffDelay(policy, attempt, env.random);
      await this.#commit({ wake_at: at, release: true }, (tx) => this.#finish(tx, started, 'failed', { error: message }));
      env.wakeAt(at);
      return 'yield';
    }
    const error = `Compensation of step "${step.name}" failed after ${attempt} attempt(s): ${message}`;
    await this.#commit({ status: 'compensation_failed', error, release: true, wake_at: null }, (tx) => this.#finish(tx, started, 'failed', { error: message }), this.#events('compensation_failed', error));
    return 'yield';
  }
}
