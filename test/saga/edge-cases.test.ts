import { describe, expect, it } from 'vitest';
import { defineSaga, NonRetryableError, storeDatabase } from '../../src/index.js';
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

  it('never runs more sagas at once than maxConcurrent, even when many are started together', async () => {
    let running = 0;
    let peak = 0;
    const saga = defineSaga({
      name: 'bounded',
      version: 1,
      steps: [
        {
          name: 'work',
          action: async () => {
            peak = Math.max(peak, ++running);
            await new Promise((r) => setTimeout(r, 20));
            running--;
          },
        },
      ],
    });
    const engine = await fx().engine({ sagas: [saga], maxConcurrent: 2 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => engine.start('bounded', `b${i}`, {})));
    const [row] = await storeDatabase(fx().store).query<{ n: unknown }>('SELECT count(*) AS n FROM tessera_saga_instances WHERE lease_owner IS NOT NULL');
    expect(Number(row!.n)).toBeLessThanOrEqual(2);
    for (let i = 0; i < 12; i++) expect((await engine.waitForTerminal(`b${i}`, { timeoutMs: 10_000 })).status).toBe('completed');
    expect(peak).toBeLessThanOrEqual(2);
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

describe.each(ADAPTERS)('transactional steps on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  it("runs a transactional step's SQL in the transaction of its result: a failed attempt leaves nothing, the success exactly one row", async () => {
    const db = storeDatabase(fx().store);
    await db.exec('CREATE TABLE ledger (saga_id TEXT NOT NULL, attempt INTEGER NOT NULL)');
    const saga = defineSaga<{ fail: boolean }>({
      name: 'tx-step',
      version: 1,
      steps: [
        {
          name: 'book',
          transactional: true,
          retry: { maxAttempts: 3, initialDelayMs: 1 },
          action: async (ctx) => {
            await ctx.tx!.sql.run('INSERT INTO ledger (saga_id, attempt) VALUES (?, ?)', [ctx.sagaId, ctx.attempt]);
            await ctx.tx!.appendToStream(`ledger-${ctx.sagaId}`, [{ type: 'Booked', data: { attempt: ctx.attempt } }]);
            if (ctx.attempt === 1) throw new Error('rolled back with its SQL');
            return { attempt: ctx.attempt };
          },
          compensate: async (ctx) => void (await db.run('DELETE FROM ledger WHERE saga_id = ?', [ctx.sagaId])),
        },
        { name: 'check', action: async (ctx) => { if (ctx.input.fail) throw new NonRetryableError('no'); } },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('tx-step', 't1', { fail: false });
    await engine.start('tx-step', 't2', { fail: true });
    const [t1, t2] = await Promise.all([engine.waitForTerminal('t1', { timeoutMs: 10_000 }), engine.waitForTerminal('t2', { timeoutMs: 10_000 })]);
    expect([t1.status, t2.status]).toEqual(['completed', 'compensated']);
    expect(t1.outputs.book).toEqual({ attempt: 2 });
    expect(t1.steps[0]).toEqual({ name: 'book', phase: 'do', state: 'succeeded', attempts: 2 });
    const rows = await db.query<{ saga_id: string; attempt: unknown }>('SELECT saga_id, attempt FROM ledger ORDER BY saga_id');
    expect(rows.map((r) => [r.saga_id, Number(r.attempt)])).toEqual([['t1', 2]]);
    expect((await fx().store.readStream('ledger-t1')).map((e) => e.data)).toEqual([{ attempt: 2 }]);
    expect(() => defineSaga({ name: 'x', version: 1, steps: [{ name: 'a', transactional: true, timeoutMs: 5, action: async () => 1 }] })).toThrow(/transactional/);
  });

  it('compensates a failed plain step (it may have acted before throwing) but not a failed transactional one (it rolled back)', async () => {
    const undone: string[] = [];
    const saga = defineSaga<{ txFails: boolean }>({
      name: 'failed-undo',
      version: 1,
      steps: [
        { name: 'first', action: async () => 1, compensate: async () => void undone.push('first') },
        {
          name: 'second',
          transactional: true,
          action: async (ctx) => { if (ctx.input.txFails) throw new NonRetryableError('rolled back'); },
          compensate: async (ctx) => void undone.push(`second:${ctx.sagaId}`),
        },
        { name: 'third', action: async () => { throw new NonRetryableError('threw after acting, maybe'); }, compensate: async (ctx) => void undone.push(`third:${ctx.sagaId}`) },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('failed-undo', 'f1', { txFails: true });
    expect((await engine.waitForTerminal('f1', { timeoutMs: 10_000 })).status).toBe('compensated');
    expect(undone).toEqual(['first']);
    undone.length = 0;
    await engine.start('failed-undo', 'f2', { txFails: false });
    const f2 = await engine.waitForTerminal('f2', { timeoutMs: 10_000 });
    expect(f2.status).toBe('compensated');
    expect(undone).toEqual(['third:f2', 'second:f2', 'first']);
    expect(f2.steps.filter((s) => s.phase === 'undo').map((s) => s.name)).toEqual(['third', 'second', 'first']);
  });
});
