import { describe, expect, it } from 'vitest';
import { defineSaga, openSagaEngine, SagaVersionMissingError, sagaStreamId, storeTransaction } from '../../src/index.js';
import { ADAPTERS, delay, gate, useSagaFixture } from './harness.js';

describe.each(ADAPTERS)('saga versions, semantic locks and lifecycle events on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  const v = (version: number, steps: string[], log: string[] = []) =>
    defineSaga({
      name: 'versioned',
      version,
      steps: steps.map((name) => ({ name, action: async () => void log.push(`v${version}:${name}`) })),
    });

  it('pins each saga to the definition version it started on; new starts use the newest version', async () => {
    const client = await fx().engine({ sagas: [v(1, ['a', 'b'])], maxConcurrent: 0 });
    await client.start('versioned', 'old', {});
    await client.stop();
    // An engine without v1 refuses to start while a v1 saga is unfinished.
    const err = await openSagaEngine({ store: fx().store, sagas: [v(2, ['x', 'y', 'z'])] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SagaVersionMissingError);
    expect(err).toMatchObject({ code: 'SAGA_VERSION_MISSING', sagaName: 'versioned', versions: [1] });
    const log: string[] = [];
    const engine = await fx().engine({ sagas: [v(1, ['a', 'b'], log), v(2, ['x', 'y', 'z'], log)] });
    await engine.start('versioned', 'new', {});
    const [o, n] = await Promise.all([engine.waitForTerminal('old', { timeoutMs: 10_000 }), engine.waitForTerminal('new', { timeoutMs: 10_000 })]);
    expect([o.version, o.status, n.version, n.status]).toEqual([1, 'completed', 2, 'completed']);
    expect(log.filter((l) => l.startsWith('v1'))).toEqual(['v1:a', 'v1:b']);
    expect(log.filter((l) => l.startsWith('v2'))).toEqual(['v2:x', 'v2:y', 'v2:z']);
    // All v1 sagas are finished now: an engine with only v2 may start.
    await expect(fx().engine({ sagas: [v(2, ['x', 'y', 'z'])] })).resolves.toBeDefined();
  });

  it('an engine leaves alone saga types it does not know', async () => {
    const other = defineSaga({ name: 'other', version: 1, steps: [{ name: 'o', action: async () => 'o' }] });
    const client = await fx().engine({ sagas: [other], maxConcurrent: 0 });
    await client.start('other', 'x1', {});
    const engine = await fx().engine({ sagas: [v(1, ['a'])] });
    await delay(100);
    expect((await engine.get('x1'))?.status).toBe('running');
    expect(engine.stats().claimed).toBe(0);
  });

  it('holds a semantic lock from the first step to the end: a second saga on the same resource waits', async () => {
    const order: string[] = [];
    const release = gate();
    const saga = defineSaga<{ account: string; tag: string; hold: boolean }>({
      name: 'locked',
      version: 1,
      locks: (input) => [`account:${input.account}`],
      steps: [
        {
          name: 'work',
          action: async (ctx) => {
            order.push(`start:${ctx.input.tag}`);
            if (ctx.input.hold) await release.promise;
            order.push(`end:${ctx.input.tag}`);
          },
        },
      ],
    });
    const engine = await fx().engine({ sagas: [saga] });
    await engine.start('locked', 'l1', { account: 'A', tag: 'first', hold: true });
    while (!order.includes('start:first')) await delay(5);
    await engine.start('locked', 'l2', { account: 'A', tag: 'second', hold: false });
    await engine.start('locked', 'l3', { account: 'B', tag: 'other', hold: false });
    expect((await engine.waitForTerminal('l3', { timeoutMs: 10_000 })).status).toBe('completed');
    await delay(100);
    expect((await engine.get('l2'))?.status).toBe('waiting');
    release.open();
    expect((await engine.waitForTerminal('l2', { timeoutMs: 10_000 })).status).toBe('completed');
    expect(order.filter((o) => !o.includes('other'))).toEqual(['start:first', 'end:first', 'start:second', 'end:second']);
  });

  it('appends lifecycle events in the same transaction as the status change (a rolled-back transition leaves none)', async () => {
    const engine = await fx().engine({ sagas: [v(1, ['a'])] });
    await engine.start('versioned', 'e1', {});
    await engine.waitForTerminal('e1', { timeoutMs: 10_000 });
    const events = await fx().store.readStream(sagaStreamId('e1'));
    expect(events.map((e) => [e.type, (e.data as { status: string }).status])).toEqual([['SagaStarted', 'running'], ['SagaCompleted', 'completed']]);
    expect(events[0]!.metadata).toMatchObject({ correlationId: 'e1' });
    // The store is the outbox: a transaction that fails after the append leaves no event behind.
    await expect(
      storeTransaction(fx().store, async (tx) => {
        await tx.appendToStream(sagaStreamId('e1'), [{ type: 'SagaCompleted', data: {} }]);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await fx().store.readStream(sagaStreamId('e1'))).toHaveLength(2);
  });
});
