import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSaga, type EventStore, openSagaEngine, type SagaEngine } from '../../src/index.js';
import { killAllChildren, spawnTsx, waitForExit } from '../support/processes.js';
import { dropSchemas, freshSchemaName } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { ADAPTERS, delay, gate, useSagaFixture } from './harness.js';
import { openStoreFromSpec } from './fixtures/open-store.js';

const RUNNER = new URL('./fixtures/wake-runner.ts', import.meta.url).pathname;

/** The runner's definitions, for the client engine here (it runs nothing, so the actions are never called). */
const none = async (): Promise<string> => 'client';
const CLIENT_SAGAS = [
  defineSaga({ name: 'relay', version: 1, steps: ['a', 'b', 'c'].map((name) => ({ name, action: none })) }),
  defineSaga({
    name: 'gated',
    version: 1,
    steps: [
      { name: 'before', action: none },
      { name: 'gate', waitForSignal: { name: 'go' }, action: none },
      { name: 'after', action: none },
    ],
  }),
];

describe.each(ADAPTERS)('sagas started and signalled in one process run in another on $name', (adapter) => {
  const tmp = tempDir('tessera-saga-wake-');
  let store: EventStore | undefined;
  let client: SagaEngine | undefined;
  const schema = freshSchemaName('saga_wake');
  afterEach(async () => {
    await client?.stop();
    await killAllChildren();
    await store?.close();
    if (adapter.name === 'postgres') await dropSchemas([schema]);
  });

  it('the runner process picks up starts and signals from the client process', async () => {
    const spec = adapter.name === 'sqlite' ? `sqlite:${join(tmp.dir, `wake-${Date.now()}.db`)}` : `postgres:${schema}`;
    store = await openStoreFromSpec(spec);
    client = await openSagaEngine({ store, sagas: CLIENT_SAGAS, maxConcurrent: 0 });
    // On PostgreSQL the runner's poll is far longer than the test may take: only a notification can wake it for
    // work that comes after its first look. SQLite has no notifications: its runner polls (25 ms by default).
    const poll = adapter.name === 'postgres' ? 600_000 : 25;
    const runner = spawnTsx(RUNNER, [spec, String(poll)], { name: 'wake-runner' });
    await runner.waitForLine((l) => l === 'READY', 30_000);
    // Waves, each after the last finished: every wave is new work for a runner that has gone back to sleep.
    for (let wave = 0; wave < 3; wave++) {
      const ids = Array.from({ length: 4 }, (_, i) => `w${wave}-${i}`);
      for (const id of ids) expect(await client.start('relay', id, {})).toEqual({ created: true });
      for (const id of ids) expect((await client.waitForTerminal(id, { timeoutMs: 20_000 })).status).toBe('completed');
    }
    await client.start('gated', 'g1', {});
    while ((await client.get('g1'))?.status !== 'waiting') await delay(10);
    await client.signal('g1', 'go', { ok: true }, { signalId: 'go-1' });
    const gated = await client.waitForTerminal('g1', { timeoutMs: 20_000 });
    expect(gated.status).toBe('completed');
    // Every step ran in the runner process, once.
    const ran = runner.lines.filter((l) => l.startsWith('RAN '));
    expect(ran.length).toBe(3 * 4 * 3 + 3);
    expect(new Set(ran).size).toBe(ran.length);
    runner.process.kill('SIGTERM');
    expect((await waitForExit(runner, 30_000)).timedOut).toBe(false);
  });
});

describe('a stopping engine hands its sagas over on postgres', () => {
  const fx = useSagaFixture(ADAPTERS.find((a) => a.name === 'postgres')!);

  it('an engine in another pool that only listens takes them over at once', async () => {
    const hold = gate();
    const saga = defineSaga({
      name: 'handover',
      version: 1,
      steps: [
        // The first attempt hangs until its engine stops (halted, unrecorded); the next runner's attempt passes.
        { name: 'slow', action: async (ctx) => (ctx.attempt === 1 ? hold.promise.then(() => 'first') : 'second') },
        { name: 'after', action: async (ctx) => ctx.outputs.slow },
      ],
    });
    const first = await fx().engine({ sagas: [saga], runnerId: 'first' });
    await first.start('handover', 'h1', {});
    while ((await first.get('h1'))?.steps[0]?.state !== 'started') await delay(10);
    const second = await fx().engine({ store: await fx().db.another(fx().store), sagas: [saga], runnerId: 'second', pollIntervalMs: 600_000 });
    await first.stop();
    const done = await second.waitForTerminal('h1', { timeoutMs: 20_000 });
    expect(done.status).toBe('completed');
    expect(done.outputs).toEqual({ slow: 'second', after: 'second' });
    expect(second.stats().claimed).toBe(1);
    hold.open();
  });
});

describe('a busy engine hears of new work from its own commits on postgres', () => {
  const fx = useSagaFixture(ADAPTERS.find((a) => a.name === 'postgres')!);

  it('starts from another pool run while the engine keeps committing another saga (it does not listen then)', async () => {
    let ticking = true;
    const ticker = defineSaga({
      name: 'ticker',
      version: 1,
      steps: Array.from({ length: 5_000 }, (_, k) => ({ name: `t${k}`, action: async () => (ticking ? delay(2) : undefined) })),
    });
    const relay = defineSaga({ name: 'relay', version: 1, steps: ['a', 'b'].map((name) => ({ name, action: async () => name })) });
    const busy = await fx().engine({ sagas: [ticker, relay], pollIntervalMs: 600_000 });
    const client = await fx().engine({ store: await fx().db.another(fx().store), sagas: [ticker, relay], maxConcurrent: 0 });
    await busy.start('ticker', 'tick', {});
    while (((await busy.get('tick'))?.steps.length ?? 0) < 20) await delay(10);
    for (const id of ['r1', 'r2', 'r3']) await client.start('relay', id, {});
    for (const id of ['r1', 'r2', 'r3']) expect((await client.waitForTerminal(id, { timeoutMs: 20_000 })).status).toBe('completed');
    // Picked up while the ticker was still going: from its commits' news, not from a poll or the listener.
    expect((await busy.get('tick'))?.status).toBe('running');
    ticking = false;
    expect((await busy.waitForTerminal('tick', { timeoutMs: 60_000 })).status).toBe('completed');
  });
});
