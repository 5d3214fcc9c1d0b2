import { afterAll, describe, expect, it } from 'vitest';
import { defineSaga, openSagaEngine, runMigrations, storeDatabase } from '../../src/index.js';
import { SAGA_MIGRATIONS, SAGA_MIGRATIONS_TABLE, T_INSTANCES, T_STEPS } from '../../src/saga/schema.js';
import { ADAPTERS } from './harness.js';

const sqlite = ADAPTERS.find((a) => a.name === 'sqlite')!;

describe('SQLite saga tables clustered on their keys (migration from the first schema)', () => {
  const sagaDb = sqlite.make();
  afterAll(() => sagaDb.cleanup());

  it('keeps every row of a database made by the first schema, and a saga in flight then runs to its end', async () => {
    const store = await sagaDb.open();
    const db = storeDatabase(store);
    await runMigrations(db, SAGA_MIGRATIONS_TABLE, SAGA_MIGRATIONS);
    // A saga parked between its steps by an older runner: step "a" done, "b" next, claimable now.
    await db.run(
      `INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, next_step, fence, created_at, updated_at) VALUES ('old-1', 'kept', 1, 'running', '{"n":7}', 1, 3, 1, 1)`,
    );
    await db.run(
      `INSERT INTO ${T_STEPS} (saga_id, step_no, phase, name, state, attempts, output, fence, started_at, ended_at) VALUES ('old-1', 0, 'do', 'a', 'succeeded', 1, '"a-out"', 3, 1, 2)`,
    );
    const seen: unknown[] = [];
    const saga = defineSaga<{ n: number }>({
      name: 'kept',
      version: 1,
      steps: [
        { name: 'a', action: async () => 'a-again' },
        { name: 'b', action: async (ctx) => void seen.push({ outputs: { ...ctx.outputs }, n: ctx.input.n }) },
      ],
    });
    const engine = await openSagaEngine({ store, sagas: [saga], pollIntervalMs: 10 });
    try {
      const done = await engine.waitForTerminal('old-1', { timeoutMs: 10_000 });
      expect(done.status).toBe('completed');
      expect(seen).toEqual([{ outputs: { a: 'a-out' }, n: 7 }]);
      expect(done.steps.map((s) => [s.name, s.phase, s.state])).toEqual([['a', 'do', 'succeeded'], ['b', 'do', 'succeeded']]);
    } finally {
      await engine.stop();
    }
    const tables = await db.query<{ name: string; sql: string }>(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?) ORDER BY name`, [T_INSTANCES, T_STEPS]);
    expect(tables.map((t) => [t.name, /WITHOUT ROWID/.test(t.sql)])).toEqual([[T_INSTANCES, true], [T_STEPS, true]]);
    const indexes = await db.query<{ name: string; sql: string }>(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, [T_INSTANCES]);
    expect(indexes.map((i) => i.name)).toEqual(['tessera_saga_created', 'tessera_saga_runnable']);
    // Migration 2: the runnable index holds unfinished sagas only.
    expect(indexes[1]!.sql).toMatch(/WHERE status IN \('running','waiting','compensating','cancelling'\)/);
  });
});
