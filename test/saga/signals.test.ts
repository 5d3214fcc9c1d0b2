import { describe, expect, it } from 'vitest';
import { defineSaga, storeDatabase } from '../../src/index.js';
import { ADAPTERS, delay, useSagaFixture } from './harness.js';

async function waitForStatus(get: () => Promise<{ status: string } | null>, status: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await get())?.status === status) return;
    await delay(10);
  }
  throw new Error(`status never became ${status}`);
}

describe.each(ADAPTERS)('saga signals and timers on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  const approval = (timeoutMs?: number) =>
    defineSaga<{ order: string }>({
      name: 'approval',
      version: 1,
      steps: [
        { name: 'reserve', action: async () => 'reserved', compensate: async () => undefined },
        {
          name: 'approve',
          waitForSignal: timeoutMs === undefined ? { name: 'approved' } : { name: 'approved', timeoutMs },
          action: async (ctx) => ({ by: (ctx.signalPayload as { by: string }).by }),
        },
        { name: 'ship', action: async (ctx) => `shipped after ${JSON.stringify(ctx.outputs.approve)}` },
      ],
    });

  it('waits durably for a signal and continues with its payload; redeliveries are deduplicated', async () => {
    const engine = await fx().engine({ sagas: [approval()] });
    await engine.start('approval', 'a1', { order: 'o1' });
    await waitForStatus(() => engine.get('a1'), 'waiting');
    await engine.signal('a1', 'approved', { by: 'alice' }, { signalId: 'sig-1' });
    await engine.signal('a1', 'approved', { by: 'mallory' }, { signalId: 'sig-1' }); // a redelivery: ignored
    const done = await engine.waitForTerminal('a1', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.outputs.approve).toEqual({ by: 'alice' });
    expect(done.outputs.ship).toBe('shipped after {"by":"alice"}');
    const rows = await storeDatabase(fx().store).query<{ n: unknown }>('SELECT count(*) AS n FROM tessera_saga_signals');
    expect(Number(rows[0]!.n)).toBe(1);
    // The saga is finished: a new signal is refused, a redelivery of a stored one is still a quiet no-op.
    await expect(engine.signal('a1', 'approved', {}, { signalId: 'sig-2' })).rejects.toMatchObject({ code: 'SAGA_INVALID_STATE' });
    await engine.signal('a1', 'approved', {}, { signalId: 'sig-1' });
  });

  it('takes a signal that arrived before the step began waiting', async () => {
    const engine = await fx().engine({ sagas: [approval()], maxConcurrent: 0 });
    await engine.start('approval', 'a2', { order: 'o2' });
    await engine.signal('a2', 'approved', { by: 'bob' }, { signalId: 'early' });
    const runner = await fx().engine({ sagas: [approval()] });
    const done = await runner.waitForTerminal('a2', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(done.outputs.approve).toEqual({ by: 'bob' });
  });

  it('compensates when the signal does not come within its timeout', async () => {
    const engine = await fx().engine({ sagas: [approval(60)] });
    await engine.start('approval', 'a3', { order: 'o3' });
    const done = await engine.waitForTerminal('a3', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(done.error).toMatch(/signal "approved" did not finish within 60 ms/);
    expect(done.steps.map((s) => `${s.phase}:${s.name}:${s.state}`)).toEqual(['do:reserve:succeeded', 'do:approve:failed', 'undo:reserve:succeeded']);
  });

  it('a waiting saga can be cancelled', async () => {
    const engine = await fx().engine({ sagas: [approval()] });
    await engine.start('approval', 'a4', { order: 'o4' });
    await waitForStatus(() => engine.get('a4'), 'waiting');
    await engine.cancel('a4');
    const done = await engine.waitForTerminal('a4', { timeoutMs: 10_000 });
    expect(done.status).toBe('cancelled');
    expect(done.steps.map((s) => `${s.phase}:${s.name}`)).toEqual(['do:reserve', 'undo:reserve']);
  });

  it('a cancel that lands while the runner still holds the saga, just before it parks for a signal, is acted on', async () => {
    let reserved!: () => void;
    const reachedReserve = new Promise<void>((r) => (reserved = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const saga = defineSaga<{ order: string }>({
      name: 'gated-approval',
      version: 1,
      steps: [
        { name: 'reserve', action: async () => (reserved(), await gate, 'reserved'), compensate: async () => undefined },
        { name: 'approve', waitForSignal: { name: 'approved' }, action: async () => 'approved' },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('gated-approval', 'a5', { order: 'o5' });
    await reachedReserve; // held by the runner: the cancel only flags it
    await engine.cancel('a5');
    release(); // the runner now finishes the step and parks for the signal
    const done = await engine.waitForTerminal('a5', { timeoutMs: 10_000 });
    expect(done.status).toBe('cancelled');
    expect(done.steps.map((s) => `${s.phase}:${s.name}`)).toEqual(['do:reserve', 'undo:reserve']);
  });

  it('a cancel right after start, on a saga that first waits for a signal, is acted on', async () => {
    const saga = defineSaga({ name: 'wait-first', version: 1, steps: [{ name: 'approve', waitForSignal: { name: 'approved' }, action: async () => 'ok' }] });
    const engine = await fx().engine({ sagas: [saga] });
    for (let i = 0; i < 5; i++) {
      await engine.start('wait-first', `wf-${i}`, {});
      await engine.cancel(`wf-${i}`);
      const done = await engine.waitForTerminal(`wf-${i}`, { timeoutMs: 10_000 });
      expect(done.status).toBe('cancelled');
    }
  });

  it('sleeps durably: the sleep survives a runner restart and the action runs once after it', async () => {
    const runs: number[] = [];
    const saga = defineSaga({
      name: 'nap',
      version: 1,
      steps: [
        { name: 'before', action: async () => Date.now() },
        { name: 'after-nap', sleepMs: 300, action: async () => void runs.push(Date.now()) },
      ],
    });
    const first = await fx().engine({ sagas: [saga] });
    await first.start('nap', 'n1', {});
    await waitForStatus(() => first.get('n1'), 'waiting');
    await first.stop();
    const second = await fx().engine({ sagas: [saga] });
    const done = await second.waitForTerminal('n1', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(runs).toHaveLength(1);
    expect(runs[0]! - (done.outputs.before as number)).toBeGreaterThanOrEqual(290);
  });
});
