import { describe, expect, it } from 'vitest';
import { defineSaga, InvalidArgumentError, openSagaEngine, openSqliteEventStore } from '../../src/index.js';

const action = async (): Promise<void> => undefined;

describe('defineSaga validation', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['no steps', { name: 's', version: 1, steps: [] }, /steps/],
    ['steps missing', { name: 's', version: 1 }, /steps/],
    ['duplicate step names', { name: 's', version: 1, steps: [{ name: 'a', action }, { name: 'a', action }] }, /two steps/],
    ['empty name', { name: '', version: 1, steps: [{ name: 'a', action }] }, /saga name/],
    ['version 0', { name: 's', version: 0, steps: [{ name: 'a', action }] }, /saga version/],
    ['fractional version', { name: 's', version: 1.5, steps: [{ name: 'a', action }] }, /saga version/],
    ['action missing', { name: 's', version: 1, steps: [{ name: 'a' }] }, /action/],
    ['compensate not a function', { name: 's', version: 1, steps: [{ name: 'a', action, compensate: 'x' }] }, /compensate/],
    ['retry maxAttempts 0', { name: 's', version: 1, steps: [{ name: 'a', action, retry: { maxAttempts: 0 } }] }, /maxAttempts/],
    ['retry negative delay', { name: 's', version: 1, steps: [{ name: 'a', action, retry: { maxAttempts: 2, initialDelayMs: -1 } }] }, /initialDelayMs/],
    ['retry max below initial', { name: 's', version: 1, steps: [{ name: 'a', action, retry: { maxAttempts: 2, initialDelayMs: 50, maxDelayMs: 10 } }] }, /maxDelayMs/],
    ['bad compensationRetry', { name: 's', version: 1, compensationRetry: { maxAttempts: -3 }, steps: [{ name: 'a', action }] }, /compensationRetry/],
    ['timeout 0', { name: 's', version: 1, steps: [{ name: 'a', action, timeoutMs: 0 }] }, /timeoutMs/],
    ['deadline negative', { name: 's', version: 1, deadlineMs: -5, steps: [{ name: 'a', action }] }, /deadlineMs/],
    ['idempotent not boolean', { name: 's', version: 1, steps: [{ name: 'a', action, idempotent: 'yes' }] }, /idempotent/],
    ['signal name missing', { name: 's', version: 1, steps: [{ name: 'a', action, waitForSignal: {} }] }, /waitForSignal/],
    ['not an object', 42, /saga definition|saga name/],
  ];
  it.each(bad)('rejects %s with InvalidArgumentError', (_, def, message) => {
    let caught: unknown;
    try {
      defineSaga(def as never);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).message).toMatch(message);
    expect((caught as InvalidArgumentError).hint.length).toBeGreaterThan(0);
  });

  it('accepts a full definition and freezes it', () => {
    const d = defineSaga({
      name: 'full',
      version: 2,
      deadlineMs: 1000,
      compensationRetry: { maxAttempts: 2 },
      steps: [
        { name: 'a', action, compensate: action, retry: { maxAttempts: 5, initialDelayMs: 0, maxDelayMs: 0 }, timeoutMs: 10, idempotent: false },
        { name: 'b', action, sleepMs: 5 },
        { name: 'c', action, waitForSignal: { name: 'go', timeoutMs: 100 } },
      ],
    });
    expect(Object.isFrozen(d)).toBe(true);
    expect(d.steps.map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });
});

describe('openSagaEngine validation', () => {
  it('rejects bad options without touching the database', async () => {
    const store = await openSqliteEventStore();
    const saga = defineSaga({ name: 's', version: 1, steps: [{ name: 'a', action }] });
    try {
      await expect(openSagaEngine({ store, sagas: [{ name: 's' }] as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store, sagas: [saga, saga] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store, sagas: 'x' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store: {} as never, sagas: [saga] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store, sagas: [saga], leaseMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store, sagas: [saga], maxConcurrent: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openSagaEngine({ store, sagas: [saga], pollIntervalMs: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const tables = await (await import('../../src/index.js')).storeDatabase(store).query("SELECT name FROM sqlite_master WHERE name LIKE 'tessera_saga%'");
      expect(tables).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
