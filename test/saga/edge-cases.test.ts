import { describe, expect, it } from 'vitest';
import { defineSaga, NonRetryableError } from '../../src/index.js';
import { ADAPTERS, gate, useSagaFixture } from './harness.js';

describe.each(ADAPTERS)('saga edge cases on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  it('a concurrent start of one saga id on two engines creates it once', async () => {
    const saga = defineSaga({ name: 'once', version: 1, steps: [{ name: 'a', action: async () => 'a' }] });
    const a = await fx().engine({ sagas: [saga] });
    const b = await fx().engine({ store: await fx().db.another(fx().store), sagas: [saga] });
    const results = await Promise.all([a.start('once', 'same', { from: 'a' }), b.start('once', 'same', { from: 'b' })]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect((await a.waitForTerminal('same', { timeoutMs: 10_000 })).status).toBe('completed');
  });

  it('skips steps without a compensation when undoing, keeping the others in reverse order', async () => {
    const log: string[] = [];
    const saga = defineSaga({
      name: 'partial-undo',
      version: 1,
      steps: [
        { name: 'a', action: async () => void log.push('do:a'), compensate: async () => void log.push('undo:a') },
        { name: 'notify', action: async () => void log.push('do:notify') },
        { name: 'c', action: async () => void log.push('do:c'), compensate: async () => void log.push('undo:c') },
        { name: 'd', action: async () => { throw new NonRetryableError('no'); } },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('partial-undo', 'p1', {});
    expect((await engine.waitForTerminal('p1', { timeoutMs: 10_000 })).status).toBe('compensated');
    expect(log).toEqual(['do:a', 'do:notify', 'do:c', 'undo:c', 'undo:a']);
  });

  it('stop() hands an in-flight saga over at once: another engine re-runs the step without waiting for the lease', async () => {
    const entered = gate();
    const calls: number[] = [];
    const def = (hang: boolean) =>
      defineSaga({
        name: 'handover',
        version: 1,
        steps: [
          {
            name: 'long',
            action: async (ctx) => {
              calls.push(ctx.attempt);
              entered.open();
              if (hang) await new Promise((r) => setTimeout(r, 60_000).unref()); // ignores its signal on purpose
              return 'done';
            },
          },
        ],
      });
    const first = await fx().engine({ sagas: [def(true)], leaseMs: 60_000 });
    await first.start('handover', 'h1', {});
    await entered.promise;
    expect((await first.get('h1'))?.steps).toEqual([{ name: 'long', phase: 'do', state: 'started', attempts: 1 }]);
    await first.stop();
    const second = await fx().engine({ store: await fx().db.another(fx().store), sagas: [def(false)], leaseMs: 60_000 });
    const done = await second.waitForTerminal('h1', { timeoutMs: 10_000 });
    expect(done.status).toBe('completed');
    expect(calls).toEqual([1, 2]);
    expect(done.steps).toEqual([{ name: 'long', phase: 'do', state: 'succeeded', attempts: 2 }]);
  });

  it('a step result that is not JSON fails the step for good and compensates', async () => {
    const saga = defineSaga({
      name: 'bad-output',
      version: 1,
      steps: [
        { name: 'a', action: async () => 'fine', compensate: async () => undefined },
        { name: 'b', action: async () => ({ big: 10n }) },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('bad-output', 'o1', {});
    const done = await engine.waitForTerminal('o1', { timeoutMs: 10_000 });
    expect(done.status).toBe('compensated');
    expect(done.steps.find((s) => s.name === 'b')).toMatchObject({ state: 'failed', attempts: 1 });
  });
});
