import { describe, expect, it } from 'vitest';
import { type AppendHook, openSqliteEventStore, type RecordedEvent } from '../../src/index.js';

// Big SQLite batches are inserted in multi-row chunks: versions, positions, order and atomicity must not notice.
describe('SQLite event store: large batches', () => {
  const batch = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ type: i % 2 ? 'Odd' : 'Even', data: { i: from + i } }));

  it('stores 123 events (whole chunks and a tail) with consecutive versions and positions, in order', async () => {
    const seen: RecordedEvent[] = [];
    const hook: AppendHook = { name: 'spy', apply: (events) => void seen.push(...events) };
    const store = await openSqliteEventStore({ appendHooks: [hook] });
    await store.appendToStream('other', [{ type: 'X', data: {} }]);
    const r = await store.appendToStream('s', batch(123), { expectedVersion: 'no_stream' });
    expect(r).toEqual({ nextExpectedVersion: 123n, lastGlobalPosition: 124n });
    const r2 = await store.appendToStream('s', batch(100, 123), { expectedVersion: 123n });
    expect(r2).toEqual({ nextExpectedVersion: 223n, lastGlobalPosition: 224n });
    const events = await store.readStream('s');
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 223 }, (_, i) => BigInt(i + 1)));
    expect(events.map((e) => e.globalPosition)).toEqual(Array.from({ length: 223 }, (_, i) => BigInt(i + 2)));
    expect(events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 223 }, (_, i) => i));
    // The hook saw exactly what was stored, positions included.
    expect(seen.slice(1).map((e) => [e.id, e.globalPosition, e.streamVersion])).toEqual(events.map((e) => [e.id, e.globalPosition, e.streamVersion]));
    await store.close();
  });

  it('stores nothing of a big batch whose second chunk hits the unique event-id key', async () => {
    // A generated id that collides is caught by the unique index inside the multi-row INSERT, not by the
    // idempotency pre-check (which only looks up ids the caller gave).
    let n = 0;
    const store = await openSqliteEventStore({ ids: () => (++n === 75 ? 'taken' : `gen-${n}`) });
    await store.appendToStream('a', [{ type: 'X', data: {}, id: 'taken' }]);
    await expect(store.appendToStream('b', batch(120))).rejects.toThrow();
    expect(await store.streamExists('b')).toBe(false);
    expect((await store.readAll()).length).toBe(1);
    await store.close();
  });
});
