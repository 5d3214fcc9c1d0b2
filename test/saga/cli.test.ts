import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineSaga, NonRetryableError, openSagaEngine, openSqliteEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from '../cli/run-cli.js';

describe('tessera sagas (CLI)', () => {
  const tmp = tempDir('tessera-saga-cli-');
  afterAll(() => tmp.remove());

  it('lists, shows, re-drives and cancels sagas in a store file', async () => {
    const db = join(tmp.dir, 'cli.db');
    const store = await openSqliteEventStore({ path: db });
    let refundWorks = false;
    const saga = defineSaga({
      name: 'cli-order',
      version: 1,
      compensationRetry: { maxAttempts: 1 },
      steps: [
        { name: 'charge', action: async () => 'charged', compensate: async () => { if (!refundWorks) throw new Error('refunds offline'); } },
        { name: 'ship', action: async (ctx) => { if ((ctx.input as { fail: boolean }).fail) throw new NonRetryableError('no courier'); } },
        { name: 'approve', waitForSignal: { name: 'ok' }, action: async () => 'approved' },
      ],
    });
    const engine = await openSagaEngine({ store, sagas: [saga], pollIntervalMs: 10 });
    try {
      await engine.start('cli-order', 'bad', { fail: true });
      await engine.start('cli-order', 'waits', { fail: false });
      expect((await engine.waitForTerminal('bad', { timeoutMs: 10_000 })).status).toBe('compensation_failed');

      const list = await runCli(db, ['sagas', 'list', '--status', 'compensation_failed']);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/bad\s+cli-order\s+1\s+compensation_failed/);
      expect(list.stdout).not.toMatch(/waits/);

      const show = await runCli(db, ['--json', 'sagas', 'show', 'bad']);
      expect(show.code).toBe(0);
      const shown = JSON.parse(show.stdout) as { status: string; steps: Array<{ name: string; phase: string; state: string }> };
      expect(shown.status).toBe('compensation_failed');
      expect(shown.steps.map((s) => `${s.phase}:${s.name}:${s.state}`)).toEqual(['do:charge:succeeded', 'do:ship:failed', 'undo:charge:failed']);

      refundWorks = true;
      const retry = await runCli(db, ['sagas', 'retry-compensation', 'bad']);
      expect(retry.code).toBe(0);
      expect((await engine.waitForTerminal('bad', { timeoutMs: 10_000 })).status).toBe('compensated');

      const cancel = await runCli(db, ['sagas', 'cancel', 'waits']);
      expect(cancel.code).toBe(0);
      expect((await engine.waitForTerminal('waits', { timeoutMs: 10_000 })).status).toBe('cancelled');

      const missing = await runCli(db, ['sagas', 'show', 'nope']);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/nope/);
    } finally {
      await engine.stop();
      await store.close();
    }
  }, 60_000);
});
