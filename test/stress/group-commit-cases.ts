import { expect } from 'vitest';
import { ConcurrencyError, type EventStore, type RecordedEvent } from '../../src/index.js';

/**
 * Group-commit cases shared by the SQLite and PostgreSQL tests: each fires its appends in one synchronous
 * loop (so they join one group) against a store with no other writer.
 */

/** `size` appends of two events to new streams `s-0 …`; every result matches what is stored. Returns the stored events. */
export async function groupToDistinctStreams(store: EventStore, size: number): Promise<RecordedEvent[]> {
  const results = await Promise.all(
    Array.from({ length: size }, (_, i) =>
      store.appendToStream(`s-${i}`, [{ type: 'A', data: { i } }, { type: 'B', data: { i } }], { expectedVersion: 'no_stream' }),
    ),
  );
  const all = (await store.readAll()).filter((e) => e.streamId.startsWith('s-'));
  expect(all.length).toBe(2 * size);
  expect(new Set(all.map((e) => e.id)).size).toBe(2 * size);
  results.forEach((r, i) => {
    const stream = all.filter((e) => e.streamId === `s-${i}`);
    expect(stream.map((e) => e.streamVersion)).toEqual([1n, 2n]);
    expect(stream.map((e) => e.data)).toEqual([{ i }, { i }]);
    expect(r).toEqual({ nextExpectedVersion: 2n, lastGlobalPosition: stream[1]!.globalPosition });
  });
  return all;
}

/** Seeds `taken`, then one group where three appends conflict: they fail alone, the other four commit. */
export async function groupWithConflicts(store: EventStore, beforeGroup: () => void = () => undefined): Promise<void> {
  await store.appendToStream('taken', [{ type: 'Seed', data: {} }]);
  beforeGroup();
  const outcomes = await Promise.allSettled([
    store.appendToStream('a', [{ type: 'A', data: 1 }], { expectedVersion: 'no_stream' }),
    store.appendToStream('taken', [{ type: 'X', data: 'stale' }], { expectedVersion: 5n }),
    store.appendToStream('b', [{ type: 'B', data: 2 }, { type: 'B', data: 3 }], { expectedVersion: 'no_stream' }),
    // Two appends in one group expecting the same version: the first wins, the second sees its write.
    store.appendToStream('taken', [{ type: 'Y', data: 'first' }], { expectedVersion: 1n }),
    store.appendToStream('taken', [{ type: 'Z', data: 'second' }], { expectedVersion: 1n }),
    store.appendToStream('c', [{ type: 'C', data: 4 }], { expectedVersion: 'stream_exists' }),
    store.appendToStream('taken', [{ type: 'W', data: 'any' }], { expectedVersion: 'any' }),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
  const conflicts = [1, 4, 5].map((i) => (outcomes[i] as PromiseRejectedResult).reason as ConcurrencyError);
  for (const c of conflicts) expect(c).toBeInstanceOf(ConcurrencyError);
  expect(conflicts.map((c) => c.actual)).toEqual([1n, 2n, 0n]);

  expect((await store.readStream('taken')).map((e) => e.data)).toEqual([{}, 'first', 'any']);
  expect((await store.readStream('a')).map((e) => e.data)).toEqual([1]);
  expect((await store.readStream('b')).map((e) => e.data)).toEqual([2, 3]);
  expect(await store.streamExists('c')).toBe(false);
  const all = await store.readAll();
  expect(all.length).toBe(6);
  const ok = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  expect(ok.map((r) => r.nextExpectedVersion)).toEqual([1n, 2n, 2n, 3n]);
  for (const r of ok) expect(all.some((e) => e.globalPosition === r.lastGlobalPosition)).toBe(true);
}
