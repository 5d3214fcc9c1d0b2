import { describe, expect, it } from 'vitest';
import { defineSaga, NonRetryableError, sagaStreamId, type StepContext } from '../../src/index.js';
import { ADAPTERS, gate, useSagaFixture } from './harness.js';

type In = { fail?: string; hard?: boolean };

/** A saga of named steps that log their calls; `input.fail` names a step that throws. */
function logged(name: string, stepNames: string[], log: string[], extra: Partial<Parameters<typeof defineSaga<In>>[0]> = {}) {
  return defineSaga<In>({
    name,
    version: 1,
    ...extra,
    steps: stepNames.map((s) => ({
      name: s,
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
      action: async (ctx: StepContext<In>) => {
        log.push(`do:${s}`);
        if (ctx.input.fail === s) throw ctx.input.hard ? new NonRetryableError(`${s} refused`) : new Error(`${s} broke`);
        return `${s}-out`;
      },
      compensate: async () => void log.push(`undo:${s}`),
    })),
  });
}

describe.each(ADAPTERS)('saga engine on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  it('runs every step in order and completes; start is idempotent per saga id', async () => {
    const log: string[] = [];
    const seen: Array<{ key: string; attempt: number; outputs: Record<string, unknown> }> = [];
    const saga = defineSaga<{ n: number }>({
      name: 'happy',
      version: 1,
      steps: ['a', 'b', 'c'].map((s) => ({
        name: s,
        action: async (ctx: StepContext<{ n: number }>) => {
          log.push(s);
          seen.push({ key: ctx.idempotencyKey, attempt: ctx.attempt, outputs: { ...ctx.outputs } });
          return { step: s, n: ctx.input.n };
        },
      })),
    });
    const engine = await fx().engine({ sagas: [saga] });
    expect(await engine.start('happy', 'h1', { n: 7 })).toEqual({ created: true });
    expect(await engine.start('happy', 'h1', { n: 8 })).toEqual({ created: false });
    const done = await engine.waitForTerminal('h1', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.name).toBe('happy');
    expect(done.version).toBe(1);
    expect(done.input).toEqual({ n: 7 });
    expect(done.outputs).toEqual({ a: { step: 'a', n: 7 }, b: { step: 'b', n: 7 }, c: { step: 'c', n: 7 } });
    expect(done.steps).toEqual(['a', 'b', 'c'].map((name) => ({ name, phase: 'do', state: 'succeeded', attempts: 1 })));
    expect(log).toEqual(['a', 'b', 'c']);
    expect(seen.map((s) => s.key)).toEqual(['h1:0:do', 'h1:1:do', 'h1:2:do']);
    expect(seen.every((s) => s.attempt === 1)).toBe(true);
    expect(seen[2]!.outputs).toEqual({ a: { step: 'a', n: 7 }, b: { step: 'b', n: 7 } });
    const events = await fx().store.readStream(sagaStreamId('h1'));
    expect(events.map((e) => e.type)).toEqual(['SagaStarted', 'SagaCompleted']);
  });

  it('retries a failing step with the same idempotency key, then succeeds', async () => {
    const calls: Array<{ key: string; attempt: number }> = [];
    const saga = defineSaga({
      name: 'flaky',
      version: 1,
      steps: [
        {
          name: 'flaky',
          retry: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 10 },
          action: async (ctx) => {
            calls.push({ key: ctx.idempotencyKey, attempt: ctx.attempt });
            if (ctx.attempt < 3) throw new Error(`transient ${ctx.attempt}`);
            return 'ok';
          },
        },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('flaky', 'f1', null);
    const done = await engine.waitForTerminal('f1', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(calls).toEqual([1, 2, 3].map((attempt) => ({ key: 'f1:0:do', attempt })));
    expect(done.steps).toEqual([{ name: 'flaky', phase: 'do', state: 'succeeded', attempts: 3 }]);
  });

  it('uses the default retry policy (3 attempts) and then compensates in strict reverse order, the failed step first (it may have acted before throwing)', async () => {
    const log: string[] = [];
    const saga = defineSaga<In>({
      name: 'defaults',
      version: 1,
      steps: ['a', 'b', 'c', 'd'].map((s) => ({
        name: s,
        action: async () => {
          log.push(`do:${s}`);
          if (s === 'c') throw new Error('always');
        },
        compensate: async (ctx: StepContext<In>) => void log.push(`undo:${s}:${ctx.idempotencyKey}`),
      })),
    });
    const engine = await fx().engine({ sagas: [saga], random: () => 0 });
    await engine.start('defaults', 'd1', {});
    const done = await engine.waitForTerminal('d1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(log).toEqual(['do:a', 'do:b', 'do:c', 'do:c', 'do:c', 'undo:c:d1:2:undo', 'undo:b:d1:1:undo', 'undo:a:d1:0:undo']);
    expect(done.error).toContain('always');
    expect(done.steps.map((s) => `${s.phase}:${s.name}:${s.state}:${s.attempts}`)).toEqual([
      'do:a:succeeded:1', 'do:b:succeeded:1', 'do:c:failed:3', 'undo:c:succeeded:1', 'undo:b:succeeded:1', 'undo:a:succeeded:1',
    ]);
    expect(done.steps[2]!.error).toBe('always');
    const events = await fx().store.readStream(sagaStreamId('d1'));
    expect(events.map((e) => e.type)).toEqual(['SagaStarted', 'SagaCompensating', 'SagaCompensated']);
  });

  it('does not retry a NonRetryableError (retryable === false): it compensates at once, the failed step included', async () => {
    const log: string[] = [];
    const engine = await fx().engine({ sagas: [logged('hard', ['a', 'b', 'c'], log)] });
    await engine.start('hard', 'n1', { fail: 'b', hard: true });
    const done = await engine.waitForTerminal('n1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(log).toEqual(['do:a', 'do:b', 'undo:b', 'undo:a']);
    expect(done.steps.find((s) => s.name === 'b')).toEqual({ name: 'b', phase: 'do', state: 'failed', attempts: 1, error: 'b refused' });
  });

  it('aborts a step at its timeout through ctx.signal, retries it, and compensates the uncertain attempt', async () => {
    const log: string[] = [];
    const aborted: boolean[] = [];
    const saga = defineSaga({
      name: 'slow',
      version: 1,
      steps: [
        { name: 'first', action: async () => void log.push('do:first'), compensate: async () => void log.push('undo:first') },
        {
          name: 'slow',
          timeoutMs: 30,
          retry: { maxAttempts: 2, initialDelayMs: 1 },
          action: (ctx) =>
            new Promise((_, reject) => {
              log.push('do:slow');
              ctx.signal.addEventListener('abort', () => {
                aborted.push(true);
                reject(ctx.signal.reason);
              });
            }),
          // The outcome of a timed-out attempt is unknown, so its compensation runs (and must be a no-op if nothing happened).
          compensate: async () => void log.push('undo:slow'),
        },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('slow', 't1', {});
    const done = await engine.waitForTerminal('t1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(aborted).toEqual([true, true]);
    expect(log).toEqual(['do:first', 'do:slow', 'do:slow', 'undo:slow', 'undo:first']);
    expect(done.steps.find((s) => s.name === 'slow' && s.phase === 'do')?.error).toMatch(/did not finish within 30 ms/);
  });

  it('retries a compensation that fails N times, then completes the compensation', async () => {
    let failures = 0;
    const saga = defineSaga({
      name: 'undo-flaky',
      version: 1,
      compensationRetry: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 5 },
      steps: [
        {
          name: 'pay',
          action: async () => 'paid',
          compensate: async (ctx) => {
            if (ctx.attempt <= 2) {
              failures++;
              throw new Error(`refund down ${ctx.attempt}`);
            }
          },
        },
        { name: 'ship', action: async () => { throw new NonRetryableError('no courier'); } },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('undo-flaky', 'u1', {});
    const done = await engine.waitForTerminal('u1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(failures).toBe(2);
    expect(done.steps.find((s) => s.phase === 'undo')).toEqual({ name: 'pay', phase: 'undo', state: 'succeeded', attempts: 3 });
  });

  it('ends compensation_failed when a compensation always fails, and retryCompensation re-drives it after a fix', async () => {
    let fixed = false;
    const keys: string[] = [];
    const saga = defineSaga({
      name: 'undo-broken',
      version: 1,
      compensationRetry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
      steps: [
        { name: 'reserve', action: async () => 'r', compensate: async (ctx) => { keys.push(`${ctx.idempotencyKey}#${ctx.attempt}`); } },
        {
          name: 'charge',
          action: async () => 'c',
          compensate: async (ctx) => {
            keys.push(`${ctx.idempotencyKey}#${ctx.attempt}`);
            if (!fixed) throw new Error('refund API down');
          },
        },
        { name: 'ship', action: async () => { throw new NonRetryableError('address invalid'); } },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('undo-broken', 'b1', {});
    const failed = await engine.waitForTerminal('b1', { timeoutMs: 10_000 });
    expect(failed.status).toBe('compensation_failed');
    expect(failed.error).toMatch(/charge.*refund API down/);
    expect(keys).toEqual(['b1:1:undo#1', 'b1:1:undo#2', 'b1:1:undo#3']);
    expect(await engine.list({ status: 'compensation_failed' })).toHaveLength(1);
    await expect(engine.signal('b1', 'x', null, { signalId: 's1' })).rejects.toMatchObject({ code: 'SAGA_INVALID_STATE' });
    fixed = true;
    await engine.retryCompensation('b1');
    const done = await engine.waitForTerminal('b1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(keys).toEqual(['b1:1:undo#1', 'b1:1:undo#2', 'b1:1:undo#3', 'b1:1:undo#1', 'b1:0:undo#1']);
    expect(done.steps.filter((s) => s.phase === 'undo').map((s) => [s.name, s.state, s.attempts])).toEqual([
      ['charge', 'succeeded', 4], ['reserve', 'succeeded', 1],
    ]);
    const types = (await fx().store.readStream(sagaStreamId('b1'))).map((e) => e.type);
    expect(types).toEqual(['SagaStarted', 'SagaCompensating', 'SagaCompensationFailed', 'SagaCompensationRetried', 'SagaCompensated']);
    await expect(engine.retryCompensation('b1')).rejects.toMatchObject({ code: 'SAGA_INVALID_STATE' });
  });

  it('cancel aborts the in-flight step and compensates what was started, ending cancelled', async () => {
    const log: string[] = [];
    const inStep = gate();
    const saga = defineSaga({
      name: 'cancel-me',
      version: 1,
      steps: [
        { name: 'a', action: async () => void log.push('do:a'), compensate: async () => void log.push('undo:a') },
        {
          name: 'wait',
          action: (ctx) =>
            new Promise((_, reject) => {
              log.push('do:wait');
              inStep.open();
              ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
            }),
          compensate: async () => void log.push('undo:wait'),
        },
        { name: 'never', action: async () => void log.push('do:never') },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('cancel-me', 'c1', {});
    await inStep.promise;
    await engine.cancel('c1');
    const done = await engine.waitForTerminal('c1', { timeoutMs: 10_000 });
    expect(done.status).toBe('cancelled');
    expect(log).toEqual(['do:a', 'do:wait', 'undo:wait', 'undo:a']);
    await engine.cancel('c1'); // cancelling a cancelled saga is a no-op
    await engine.start('cancel-me', 'c2', {});
    await expect(engine.cancel('nope')).rejects.toMatchObject({ code: 'SAGA_NOT_FOUND' });
  });

  it('cancels a saga no runner holds directly (a client engine that runs nothing)', async () => {
    const client = await fx().engine({ sagas: [logged('idle', ['a'], [])], maxConcurrent: 0 });
    await client.start('idle', 'i1', {});
    await client.cancel('i1');
    expect((await client.get('i1'))?.status).toBe('cancelling');
    const runner = await fx().engine({ sagas: [logged('idle', ['a'], [])] });
    const done = await runner.waitForTerminal('i1', { timeoutMs: 10_000 });
    expect(done.status).toBe('cancelled');
    expect(done.steps).toEqual([]);
    const completed = await fx().engine({ sagas: [logged('idle2', ['a'], [])] });
    await completed.start('idle2', 'i2', {});
    expect((await completed.waitForTerminal('i2', { timeoutMs: 10_000 })).status).toBe('completed');
    await expect(completed.cancel('i2')).rejects.toMatchObject({ code: 'SAGA_INVALID_STATE' });
  });

  it('cancels (through cancelling, compensating) when the saga passes its deadline, aborting the running step', async () => {
    const log: string[] = [];
    const saga = defineSaga({
      name: 'deadline',
      version: 1,
      deadlineMs: 400,
      steps: [
        { name: 'a', action: async () => void log.push('do:a'), compensate: async () => void log.push('undo:a') },
        {
          name: 'slow',
          action: (ctx) =>
            new Promise((_, reject) => {
              log.push('do:slow');
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            }),
          compensate: async () => void log.push('undo:slow'),
        },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('deadline', 'dl1', {});
    const done = await engine.waitForTerminal('dl1', { timeoutMs: 10_000 });
    expect(done.status).toBe('cancelled');
    expect(done.error).toMatch(/deadline/);
    const types = (await fx().store.readStream(sagaStreamId('dl1'))).map((e) => e.type);
    expect(types).toEqual(['SagaStarted', 'SagaCancelling', 'SagaCancelled']);
    // If the deadline passed before 'slow' began (a slow machine), 'slow' never ran and is not undone.
    expect([['do:a', 'do:slow', 'undo:slow', 'undo:a'], ['do:a', 'undo:a']]).toContainEqual(log);
    expect(done.steps.find((s) => s.name === 'slow' && s.phase === 'do')?.state ?? 'failed').toBe('failed');
  });

  it('lists sagas by status with a limit, and get() returns null for an unknown id', async () => {
    const engine = await fx().engine({ sagas: [logged('many', ['a'], [])] });
    for (let i = 0; i < 5; i++) await engine.start('many', `m${i}`, { fail: i % 2 === 0 ? 'a' : undefined, hard: true });
    for (let i = 0; i < 5; i++) await engine.waitForTerminal(`m${i}`, { timeoutMs: 10_000 });
    expect((await engine.list({ status: 'compensated' })).map((s) => s.id)).toEqual(['m0', 'm2', 'm4']);
    expect((await engine.list({ status: 'completed' })).map((s) => s.id)).toEqual(['m1', 'm3']);
    expect(await engine.list({ limit: 2 })).toHaveLength(2);
    expect(await engine.get('missing')).toBeNull();
    await expect(engine.waitForTerminal('missing')).rejects.toMatchObject({ code: 'SAGA_NOT_FOUND' });
  });

  it('rejects bad calls: unknown saga type, bad ids, bad options, non-JSON input', async () => {
    const engine = await fx().engine({ sagas: [logged('ok', ['a'], [])] });
    await expect(engine.start('nope', 'x', {})).rejects.toMatchObject({ code: 'UNKNOWN_SAGA' });
    await expect(engine.start('ok', '', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.start('ok', 'x', { n: 1n })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.list({ status: 'bogus' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.list({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.signal('x', 'go', null, {} as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.signal('missing', 'go', null, { signalId: 's' })).rejects.toMatchObject({ code: 'SAGA_NOT_FOUND' });
    await expect(engine.retryCompensation('missing')).rejects.toMatchObject({ code: 'SAGA_NOT_FOUND' });
    await expect(engine.waitForTerminal('x', { timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await engine.get('x')).toBeNull(); // nothing was written by the failed starts
  });

  it('waitForTerminal times out with a typed error; stop() fails later calls', async () => {
    const hold = gate();
    const saga = defineSaga({ name: 'hold', version: 1, steps: [{ name: 'h', action: () => hold.promise }] });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('hold', 'w1', {});
    await expect(engine.waitForTerminal('w1', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'SAGA_TIMEOUT' });
    hold.open();
    expect((await engine.waitForTerminal('w1', { timeoutMs: 10_000 })).status).toBe('completed');
    await engine.stop();
    await expect(engine.start('hold', 'w2', {})).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });
});
