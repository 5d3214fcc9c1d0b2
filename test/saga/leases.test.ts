import { afterEach, describe, expect, it } from 'vitest';
import { defineSaga, sagaStreamId, storeDatabase, type StepContext } from '../../src/index.js';
import { killAllChildren, spawnTsx } from '../support/processes.js';
import { ADAPTERS, gate, useSagaFixture } from './harness.js';

describe.each(ADAPTERS)('saga leases and recovery on $name', (adapter) => {
  const fx = useSagaFixture(adapter);
  afterEach(() => killAllChildren());

  it('several engines on one database share the work; every step runs once', async () => {
    const calls = new Map<string, number>();
    const saga = defineSaga<{ i: number }>({
      name: 'shared',
      version: 1,
      steps: ['a', 'b', 'c'].map((name) => ({
        name,
        action: async (ctx: StepContext<{ i: number }>) => {
          calls.set(ctx.idempotencyKey, (calls.get(ctx.idempotencyKey) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 2));
          return ctx.input.i;
        },
      })),
    });
    const engines: Array<Awaited<ReturnType<ReturnType<typeof fx>["engine"]>>> = [];
    for (let k = 0; k < 3; k++) {
      const store = k === 0 ? fx().store : await fx().db.another(fx().store);
      engines.push(await fx().engine({ store, sagas: [saga], runnerId: `r${k}`, maxConcurrent: 4 }));
    }
    const n = 30;
    await Promise.all(Array.from({ length: n }, (_, i) => engines[i % 3]!.start('shared', `s${i}`, { i })));
    const done = await Promise.all(Array.from({ length: n }, (_, i) => engines[0]!.waitForTerminal(`s${i}`, { timeoutMs: 30_000 })));
    expect(done.every((d) => d.status === 'completed')).toBe(true);
    expect(calls.size).toBe(n * 3);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
    const claimed = engines.map((e) => e.stats().claimed);
    expect(claimed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(n);
    expect(engines.map((e) => e.stats().fencedWrites)).toEqual([0, 0, 0]);
  });

  it('a runner whose lease expired is fenced: its late writes change nothing, the new owner finishes', async () => {
    const hold = gate();
    const calls: string[] = [];
    const makeSaga = (blocking: boolean) =>
      defineSaga({
        name: 'fenced',
        version: 1,
        steps: [
          {
            name: 'slow',
            action: async (ctx) => {
              calls.push(`${blocking ? 'old' : 'new'}:${ctx.idempotencyKey}:${ctx.attempt}`);
              if (blocking) await hold.promise;
              return blocking ? 'from-old' : 'from-new';
            },
          },
          { name: 'after', action: async (ctx) => ctx.outputs.slow },
        ],
      });
    // The old runner's clock is an hour behind: to everyone else its lease looks long expired.
    const old = await fx().engine({ sagas: [makeSaga(true)], runnerId: 'old', leaseMs: 60_000, clock: { now: () => Date.now() - 3_600_000 } });
    await old.start('fenced', 'f1', {});
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    const fresh = await fx().engine({ store: await fx().db.another(fx().store), sagas: [makeSaga(false)], runnerId: 'new', leaseMs: 60_000 });
    const done = await fresh.waitForTerminal('f1', { timeoutMs: 20_000 });
    hold.open();
    await new Promise((r) => setTimeout(r, 50));
    await old.stop();
    expect(done.status).toBe('completed');
    expect(done.outputs).toEqual({ slow: 'from-new', after: 'from-new' });
    expect(calls).toEqual(['old:f1:0:do:1', 'new:f1:0:do:2']);
    expect(old.stats().fencedWrites).toBe(1);
    const after = await fresh.get('f1');
    expect(after).toEqual(done); // the old runner's result was refused: nothing changed
    const rows = await storeDatabase(fx().store).query<{ lease_owner: string | null }>('SELECT lease_owner FROM tessera_saga_instances');
    expect(rows).toEqual([{ lease_owner: null }]);
    const types = (await fx().store.readStream(sagaStreamId('f1'))).map((e) => e.type);
    expect(types).toEqual(['SagaStarted', 'SagaCompleted']);
  });

  it('recovers after kill -9 of a runner mid-step: the step re-runs with the same key and attempts counts both', async () => {
    const spec = await storeSpec();
    const client = await fx().engine({ sagas: [crashy(false)], maxConcurrent: 0 });
    const child = spawnTsx(new URL('./fixtures/crash-runner.ts', import.meta.url).pathname, [spec, '300'], { name: 'crash-runner' });
    await child.waitForLine((l) => l === 'READY', 30_000);
    await client.start('crashy', 'k1', {});
    const line = await child.waitForLine((l) => l.startsWith('IN_B'), 30_000);
    expect(line).toBe('IN_B k1:1:do 1');
    await child.kill9();
    const seen: string[] = [];
    const runner = await fx().engine({ sagas: [crashy(true, seen)], leaseMs: 300 });
    const done = await runner.waitForTerminal('k1', { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(seen).toEqual(['k1:1:do#2']);
    expect(done.steps.map((s) => [s.name, s.state, s.attempts])).toEqual([['a', 'succeeded', 1], ['b', 'succeeded', 2], ['c', 'succeeded', 1]]);
  }, 60_000);

  it('does not repeat an interrupted non-idempotent step: it compensates instead', async () => {
    const log: string[] = [];
    const hold = gate();
    const def = (first: boolean) =>
      defineSaga({
        name: 'once',
        version: 1,
        steps: [
          { name: 'a', action: async () => void log.push('do:a'), compensate: async () => void log.push('undo:a') },
          {
            name: 'charge',
            idempotent: false,
            action: async () => {
              log.push('do:charge');
              if (first) await hold.promise;
            },
            compensate: async () => void log.push('undo:charge'),
          },
        ],
      });
    const old = await fx().engine({ sagas: [def(true)], leaseMs: 60_000, clock: { now: () => Date.now() - 3_600_000 } });
    await old.start('once', 'o1', {});
    while (!log.includes('do:charge')) await new Promise((r) => setTimeout(r, 5));
    const fresh = await fx().engine({ store: await fx().db.another(fx().store), sagas: [def(false)] });
    const done = await fresh.waitForTerminal('o1', { timeoutMs: 20_000 });
    hold.open();
    expect(done.status).toBe('compensated');
    expect(log).toEqual(['do:a', 'do:charge', 'undo:charge', 'undo:a']);
    expect(done.error).toMatch(/not idempotent/);
  });

  async function storeSpec(): Promise<string> {
    const db = storeDatabase(fx().store);
    if (db.dialect === 'sqlite') return `sqlite:${(db as unknown as { path: string }).path}`;
    const [row] = await db.query<{ s: string }>('SELECT current_schema() AS s');
    return `postgres:${row!.s}`;
  }
});

function crashy(succeed: boolean, seen: string[] = []) {
  return defineSaga({
    name: 'crashy',
    version: 1,
    steps: [
      { name: 'a', action: async () => 'a-done' },
      {
        name: 'b',
        action: async (ctx) => {
          seen.push(`${ctx.idempotencyKey}#${ctx.attempt}`);
          return succeed ? 'b-done' : new Promise(() => undefined);
        },
      },
      { name: 'c', action: async () => 'c-done' },
    ],
  });
}

