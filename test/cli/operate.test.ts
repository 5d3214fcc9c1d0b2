import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineSaga, openSagaEngine, openSqliteEventStore, projection, startProjector, storeDatabase } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

const tmp = tempDir('tessera-cli-operate-');
afterAll(() => tmp.remove());

const jsonLines = (out: string): Array<Record<string, unknown>> => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const errorOf = (stderr: string): Record<string, unknown> => (JSON.parse(stderr) as { error: Record<string, unknown> }).error;

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('tessera sagas retry', () => {
  it('re-drives a compensation_failed saga (alias retry-compensation) and refuses other states with typed errors', async () => {
    const db = join(tmp.dir, 'sagas.db');
    const store = await openSqliteEventStore({ path: db });
    let refundWorks = false;
    const saga = defineSaga<{ n: number }>({
      name: 'refund',
      version: 1,
      compensationRetry: { maxAttempts: 1 },
      steps: [
        { name: 'charge', action: async () => 'charged', compensate: async () => { if (!refundWorks) throw new Error('refunds offline'); } },
        { name: 'ship', retry: { maxAttempts: 1 }, action: async () => { throw new Error('no courier'); } },
      ],
    });
    const engine = await openSagaEngine({ store, sagas: [saga], pollIntervalMs: 10 });
    try {
      for (const id of ['r-1', 'r-2', 'r-3']) await engine.start('refund', id, { n: 1 });
      for (const id of ['r-1', 'r-2', 'r-3']) expect((await engine.waitForTerminal(id, { timeoutMs: 10_000 })).status).toBe('compensation_failed');
      refundWorks = true;

      // --wait follows the compensation (a bar on a terminal) until the running engine has finished it.
      const json = await runCli(db, ['--json', 'sagas', 'retry', 'r-1', '--wait']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ sagaId: 'r-1', status: 'compensated' });
      const alias = await runCli(db, ['sagas', 'retry-compensation', 'r-2']);
      // The running engine may finish the compensation before the CLI reads the status back.
      expect(alias).toMatchObject({ code: 0, stdout: expect.stringMatching(/^compensation of r-2 re-driven \(now compensat(ing|ed)\)\n$/) });
      expect((await engine.waitForTerminal('r-2', { timeoutMs: 10_000 })).status).toBe('compensated');

      // With no engine running, nothing carries the compensation out: --wait gives up with a typed error.
      await engine.stop();
      const waited = await runCli(db, ['--json', 'sagas', 'retry', 'r-3', '--wait', '--timeout', '300']);
      expect(waited.code).toBe(1);
      expect(errorOf(waited.stderr)).toMatchObject({ code: 'SAGA_TIMEOUT', message: expect.stringMatching(/r-3/) });

      const again = await runCli(db, ['--json', 'sagas', 'retry', 'r-1']);
      expect(again.code).toBe(1);
      expect(errorOf(again.stderr)).toMatchObject({ code: 'SAGA_INVALID_STATE', hint: expect.any(String) });
      const text = await runCli(db, ['sagas', 'retry', 'r-1']);
      expect(text.stderr).toMatch(/^error: .*r-1.*\nhint: \S/);
      const missing = await runCli(db, ['--json', 'sagas', 'retry', 'nope']);
      expect(missing.code).toBe(1);
      expect(errorOf(missing.stderr)).toMatchObject({ code: 'SAGA_NOT_FOUND' });

      const list = await runCli(db, ['--json', 'sagas', 'list', '--status', 'compensated']);
      expect(jsonLines(list.stdout).map((s) => [s.id, s.status])).toEqual([['r-1', 'compensated'], ['r-2', 'compensated']]);
      const shown = await runCli(db, ['sagas', 'show', 'r-1']);
      expect(shown.stdout).toMatch(/^status\s+compensated$/m);
      expect(shown.stdout).toMatch(/^charge\s+undo\s+succeeded\s+2/m);
    } finally {
      await engine.stop();
      await store.close();
    }
  });

  it('rejects bad sagas input with a typed error and exit 1', async () => {
    const db = join(tmp.dir, 'sagas-bad.db');
    expect((await runCli(db, ['init'])).code).toBe(0);
    const cases: Array<[string[], string, RegExp]> = [
      [['sagas', 'list', '--status', 'done'], 'INVALID_ARGUMENT', /"done" is not a saga status/],
      [['sagas', 'list', '--limit', '0'], 'INVALID_ARGUMENT', /--limit/],
      [['sagas', 'show', 'ghost'], 'SAGA_NOT_FOUND', /ghost/],
      [['sagas', 'retry'], 'USAGE', /missing required argument 'sagaId'/],
      [['sagas', 'retry', 'ghost', '--wait', '--timeout', '0'], 'INVALID_ARGUMENT', /--timeout/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(db, ['--json', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      const error = errorOf(r.stderr);
      expect(error.code, args.join(' ')).toBe(code);
      expect(String(error.message), args.join(' ')).toMatch(message);
      expect(error.hint, args.join(' ')).toEqual(expect.any(String));
    }
  });
});

describe('tessera projections', () => {
  it('retries a parked projection, requests a rebuild without waiting, and refuses unknown or healthy ones', async () => {
    const db = join(tmp.dir, 'projections.db');
    const store = await openSqliteEventStore({ path: db });
    let broken = true;
    const counts = projection({
      name: 'counts', version: 1, tables: ['counts'], handles: ['Counted'],
      setup: (sql, t) => sql.exec(`CREATE TABLE ${t.counts} (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)`),
      apply: async (_e, sql, t) => {
        if (broken) throw new Error('read model offline');
        await sql.run(`INSERT INTO ${t.counts} (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = ${t.counts}.n + 1`);
      },
    });
    const projector = await startProjector({ store, projections: [counts], pollIntervalMs: 10, retry: { maxAttempts: 1, initialDelayMs: 10, maxDelayMs: 10 } });
    const sql = storeDatabase(store);
    try {
      await store.appendToStream('c-1', [{ type: 'Counted', data: {} }]);
      await until(async () => (await sql.query("SELECT 1 FROM tessera_projections WHERE state = 'failed'")).length === 1, 'the projection to park');
      const parked = await runCli(db, ['projections', 'list']);
      expect(parked.stdout).toMatch(/^counts\s+async\s+1\s+failed\s.*read model offline/m);

      broken = false;
      const retry = await runCli(db, ['--json', 'projections', 'retry', 'counts']);
      expect(retry.code).toBe(0);
      expect(JSON.parse(retry.stdout)).toEqual({ name: 'counts', retried: true });
      await until(async () => (await sql.query<{ n: number }>('SELECT n FROM counts'))[0]?.n === 1, 'the retried event to apply');

      const requested = await runCli(db, ['--json', 'projections', 'rebuild', 'counts', '--no-wait']);
      expect(requested.code).toBe(0);
      expect(jsonLines(requested.stdout).at(-1)).toEqual({ name: 'counts', rebuild: 'requested' });

      const cases: Array<[string[], string, RegExp]> = [
        [['projections', 'retry', 'counts'], 'INVALID_ARGUMENT', /not parked in failed/],
        [['projections', 'skip', 'counts'], 'INVALID_ARGUMENT', /not parked in failed/],
        [['projections', 'retry', 'nope'], 'UNKNOWN_PROJECTION', /nope/],
        [['projections', 'rebuild', 'nope'], 'UNKNOWN_PROJECTION', /nope/],
        [['projections', 'frob'], 'USAGE', /unknown command 'frob'/],
      ];
      for (const [args, code, message] of cases) {
        const r = await runCli(db, ['--json', ...args]);
        expect(r.code, args.join(' ')).toBe(1);
        expect(errorOf(r.stderr), args.join(' ')).toMatchObject({ code, message: expect.stringMatching(message) });
      }
    } finally {
      await projector.stop();
      await store.close();
    }
  });
});

describe('tessera --help', () => {
  it('lists the commands of every pattern built so far', async () => {
    const r = await runCli(join(tmp.dir, 'unused.db'), ['--help']);
    expect(r.code).toBe(0);
    for (const command of ['init', 'migrate', 'append', 'read', 'tail', 'stats', 'bus', 'sagas', 'projections']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(r.stdout).toMatch(/--db <path\|url>/);
    expect(r.stdout).toMatch(/--schema <name>/);
    const sagas = await runCli(join(tmp.dir, 'unused.db'), ['sagas', '--help']);
    expect(sagas.stdout).toMatch(/^ {2}retry\|retry-compensation \[options\] <sagaId>/m);
  });
});
