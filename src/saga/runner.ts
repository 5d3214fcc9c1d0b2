import { isTesseraError, SagaDeadlineExceededError, SagaTimeoutError } from '../errors.js';
import { storeDatabase, storeTransaction, type StoreTransaction } from '../eventstore/store.js';
import type { NewEvent } from '../eventstore/types.js';
import { backoffDelay } from '../support/backoff.js';
import { encodeJson } from '../support/json.js';
import { requestCancel } from './commands.js';
import { DEFAULT_COMPENSATION_RETRY, DEFAULT_STEP_RETRY, resolveRetry } from './define.js';
import { lifecycleEvent, sagaStreamId } from './events.js';
import { errorText, Invocation, isRetryable, type InvokeResult } from './invoke.js';
import { acquireLocks, consumeSignal, deleteStep, fencedUpdate, findSignal, finishStep, type InstanceChanges, loadSteps, releaseLocks, renewLease, startStep } from './repo.js';
import { type InstanceRow, outputsOf, stepKey, type StepRow } from './rows.js';
import { Halt, NEVER, type Next, type RunEnv } from './run-env.js';
import type { SagaStepDefinition, StepContext } from './types.js';

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

  /** `first`: the first step, already recorded as started in the commit that created and claimed the saga. */
  constructor(env: RunEnv, row: InstanceRow, first: StepRow | null = null) {
    this.#env = env;
    this.#row = row;
    this.#pre = first;
  }

  get sagaId(): string {
    return this.#row.sagaId;
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
      for (const s of await loadSteps(storeDatabase(this.#env.store), this.sagaId)) this.#steps.set(stepKey(s.stepNo, s.phase), s);
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
        await this.#commit({ release: true, wake_at: this.#env.clock.now() + this.#env.leaseMs }).catch(() => undefined);
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

  /** One transaction: the fenced instance update, then `more`, then lifecycle events. */
  async #commit(changes: InstanceChanges, more?: (tx: StoreTransaction) => Promise<void>, events: NewEvent[] = []): Promise<{ cancelRequested: boolean }> {
    const now = this.#env.clock.now();
    const r = await storeTransaction(this.#env.store, async (tx) => {
      const res = await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, now, changes);
      if (more) await more(tx);
      if (events.length > 0) await tx.appendToStream(sagaStreamId(this.sagaId), events);
      return res;
    });
    const row = this.#row;
    if (changes.status !== undefined) row.status = changes.status as InstanceRow['status'];
    if (changes.next_step !== undefined) row.nextStep = changes.next_step;
    if (changes.undo_outcome !== undefined) row.undoOutcome = changes.undo_outcome as InstanceRow['undoOutcome'];
    if (changes.wake_at !== undefined) row.wakeAt = changes.wake_at;
    if (changes.timer_at !== undefined) row.timerAt = changes.timer_at;
    if (changes.error !== undefined) row.error = changes.error;
    if (r.cancelRequested) row.cancelRequested = true;
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

  #ctx(step: number, phase: 'do' | 'undo', row: StepRow, inv: Invocation, signalPayload?: string | null): StepContext<unknown> {
    const ctx: { -readonly [K in keyof StepContext<unknown>]: StepContext<unknown>[K] } = {
      sagaId: this.sagaId,
      input: JSON.parse(this.#row.input),
      outputs: outputsOf(this.#steps.values()),
      idempotencyKey: `${this.sagaId}:${step}:${phase}`,
      attempt: row.attempts - row.budgetFrom,
      signal: inv.signal,
    };
    if (signalPayload !== undefined) ctx.signalPayload = signalPayload === null ? null : JSON.parse(signalPayload);
    return ctx;
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
      started = await storeTransaction(env.store, async (tx) => {
        await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, env.clock.now(), { status: 'running', wake_at: null });
        if (signalId !== null) await consumeSignal(tx.sql, this.sagaId, signalId, i);
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
    const ctx = this.#ctx(i, 'do', started, inv, payload);
    const encode = (v: unknown): string | null => (v === undefined ? null : encodeJson(v, `output of step "${step.name}"`));
    let res: InvokeResult;
    if (step.transactional) {
      // The action's SQL commits with its result (exactly once); if it throws, both roll back: a known-nil failure.
      try {
        return await this.#forwardSucceeded(i, started, null, async (tx) => encode(await step.action({ ...ctx, tx })));
      } catch (e) {
        if (isTesseraError(e, 'LEASE_FENCED') || this.#halted) throw e;
        res = { ok: false, kind: 'error', error: e };
      }
    } else {
      res = await this.#invoke(() => step.action(ctx), `Step "${step.name}"`, step.timeoutMs, inv, true);
      if (res.ok) {
        try {
          return await this.#forwardSucceeded(i, started, encode(res.value));
        } catch (e) {
          if (!isTesseraError(e, 'INVALID_ARGUMENT')) throw e;
          res = { ok: false, kind: 'error', error: e };
        }
      }
    }
    if (res.ok) return 'continue';
    const message = errorText(res.error);
    const uncertain = res.kind !== 'error';
    if (res.kind === 'cancel') {
      return this.#beginUndo('cancelling', 'cancelled on request', (tx) => this.#finish(tx, started, 'failed', { error: message, uncertain }));
    }
    const policy = resolveRetry(step.retry, 'retry', DEFAULT_STEP_RETRY);
    const attempt = started.attempts - started.budgetFrom;
    const retry = res.kind !== 'deadline' && isRetryable(res.error) && !(uncertain && step.idempotent === false) && attempt < policy.maxAttempts;
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
  async #forwardSucceeded(i: number, started: StepRow, result: string | null, work?: (tx: StoreTransaction) => Promise<string | null>): Promise<Next> {
    const steps = this.#env.def.steps;
    const n = i + 1;
    if (n === steps.length) {
      await this.#commit({ status: 'completed', next_step: n, release: true, wake_at: null, timer_at: null }, async (tx) => {
        const output = work ? await work(tx) : result;
        await this.#finish(tx, started, 'succeeded', { output });
        await releaseLocks(tx.sql, this.sagaId);
      }, this.#events('completed'));
      return 'yield';
    }
    const next = steps[n]!;
    const plain = next.sleepMs === undefined && next.waitForSignal === undefined;
    const deadlinePassed = this.#row.deadlineAt !== null && this.#env.clock.now() >= this.#row.deadlineAt;
    await storeTransaction(this.#env.store, async (tx) => {
      const r = await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, this.#env.clock.now(), { next_step: n, timer_at: null });
      const output = work ? await work(tx) : result;
      await this.#finish(tx, started, 'succeeded', { output });
      if (r.cancelRequested) this.#row.cancelRequested = true;
      // One commit per transition: the next step's start rides along unless something else must happen first.
      if (plain && !r.cancelRequested && !deadlinePassed && !this.#halted) this.#pre = await this.#startStep(tx, n, 'do');
    });
    this.#row.nextStep = n;
    this.#row.timerAt = null;
    return 'continue';
  }

  /** The highest step at or below `from` that still needs its compensation run. */
  #nextUndo(from: number): number | null {
    for (let k = from; k >= 0; k--) {
      const step = this.#env.def.steps[k];
      const done = this.#steps.get(stepKey(k, 'do'));
      if (step?.compensate === undefined || done === undefined) continue;
      // A failed attempt whose effect is known to be nil needs no undo; started or uncertain ones do.
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
    started ??= await storeTransaction(env.store, async (tx) => {
      await fencedUpdate(tx.sql, this.sagaId, this.#row.fence, env.clock.now(), { next_step: j, wake_at: null });
      return this.#startStep(tx, j, 'undo');
    });
    this.#row.nextStep = j;
    const inv = new Invocation();
    const ctx = this.#ctx(j, 'undo', started, inv);
    const res = await this.#invoke(() => step.compensate!(ctx), `Compensation of step "${step.name}"`, step.timeoutMs, inv, false);
    if (res.ok) {
      const after = this.#nextUndo(j - 1);
      if (after === null) return this.#finishUndo((tx) => this.#finish(tx, started, 'succeeded'));
      await storeTransaction(env.store, async (tx) => {
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
