import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/index.js';
import { type ConformanceContext, events, withStore } from './harness.js';

type Sum = { total: number; count: number };
const sum = {
  initialState: (): Sum => ({ total: 0, count: 0 }),
  evolve: (s: Sum, e: RecordedEvent): Sum => ({ total: s.total + (e.data as { n: number }).n, count: s.count + 1 }),
};

/** aggregateStream, temporal queries, snapshots and upcasters. */
export function aggregateCases(ctx: ConformanceContext): void {
  describe('aggregateStream', () => {
    it('folds a stream into state and version; an absent stream gives the initial state at 0n', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('agg', events(5));
        expect(await store.aggregateStream('agg', sum)).toEqual({ state: { total: 10, count: 5 }, version: 5n });
        expect(await store.aggregateStream('none', sum)).toEqual({ state: { total: 0, count: 0 }, version: 0n });
      }));

    it('answers temporal queries as of a version and as of a time', () => {
      let now = 1_000;
      return withStore(
        ctx,
        async (store) => {
          for (let i = 0; i < 6; i++) {
            await store.appendToStream('t', events(1, 'T', i));
            now += 1_000;
          }
          // events recorded at 1000, 2000, … 6000
          expect(await store.aggregateStream('t', { ...sum, asOf: { version: 3n } })).toEqual({ state: { total: 3, count: 3 }, version: 3n });
          expect(await store.aggregateStream('t', { ...sum, asOf: { time: new Date(2_500) } })).toEqual({ state: { total: 1, count: 2 }, version: 2n });
          expect(await store.aggregateStream('t', { ...sum, asOf: { time: new Date(999) } })).toEqual({ state: { total: 0, count: 0 }, version: 0n });
          expect(await store.aggregateStream('t', { ...sum, asOf: { version: 5n, time: new Date(3_000) } })).toEqual({ state: { total: 3, count: 3 }, version: 3n });
        },
        { clock: { now: () => now } },
      );
    });

    it('uses snapshots every N events and ignores them when the schema version changes', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('snap', events(10));
        let applied = 0;
        const counting = { ...sum, evolve: (s: Sum, e: RecordedEvent) => (applied++, sum.evolve(s, e)) };
        const snapshot = { schemaVersion: 1, every: 4 };
        expect(await store.aggregateStream('snap', { ...counting, snapshot })).toEqual({ state: { total: 45, count: 10 }, version: 10n });
        expect(applied).toBe(10);
        applied = 0;
        await store.appendToStream('snap', events(2, 'Happened', 10));
        expect(await store.aggregateStream('snap', { ...counting, snapshot })).toEqual({ state: { total: 66, count: 12 }, version: 12n });
        expect(applied).toBe(2); // resumed from the snapshot at version 10
        applied = 0;
        expect(await store.aggregateStream('snap', { ...counting, snapshot: { schemaVersion: 2, every: 100 } })).toEqual({ state: { total: 66, count: 12 }, version: 12n });
        expect(applied).toBe(12); // schema changed: the old snapshot is ignored
        applied = 0;
        expect(await store.aggregateStream('snap', { ...counting, asOf: { version: 11n }, snapshot })).toEqual({ state: { total: 55, count: 11 }, version: 11n });
        expect(applied).toBe(1); // snapshot at 10 ≤ asOf 11 is used
      }));

    it('round-trips snapshot state through serialize and deserialize', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('ser', events(3));
        const opts = {
          initialState: () => new Set<number>(),
          evolve: (s: Set<number>, e: RecordedEvent) => new Set([...s, (e.data as { n: number }).n]),
          snapshot: { schemaVersion: 1, every: 1, serialize: (s: Set<number>) => [...s], deserialize: (v: unknown) => new Set(v as number[]) },
        };
        await store.aggregateStream('ser', opts);
        const { state } = await store.aggregateStream('ser', opts);
        expect([...state]).toEqual([0, 1, 2]);
      }));
  });

  describe('upcasters', () => {
    it('stores new events at the current schema version of their type', () =>
      withStore(
        ctx,
        async (store) => {
          await store.appendToStream('up', [{ type: 'Renamed', data: { fullName: 'Ada Lovelace' } }, { type: 'Plain', data: {} }]);
          const [r, p] = await store.readStream('up');
          expect(r).toMatchObject({ schemaVersion: 2, data: { fullName: 'Ada Lovelace' } });
          expect(p!.schemaVersion).toBe(1);
        },
        { upcasters: [{ type: 'Renamed', fromSchemaVersion: 1, upcast: (d) => ({ fullName: (d as { name: string }).name }) }] },
      ));

    it.skipIf(!ctx.capabilities.has('sharedDatabase'))(
      'upgrades old events on every read path [needs capability sharedDatabase; skipped without it]',
      () =>
        withStore(ctx, async (store, harness) => {
          await store.appendToStream('old', [{ type: 'Named', data: { name: 'Ada' } }, { type: 'Named', data: { name: 'Bob' } }]);
          const upgraded = await harness.open({
            upcasters: [
              { type: 'Named', fromSchemaVersion: 1, upcast: (d) => ({ fullName: (d as { name: string }).name }) },
              { type: 'Named', fromSchemaVersion: 2, upcast: (d) => ({ ...(d as object), v3: true }) },
            ],
          });
          const expected = { fullName: 'Ada', v3: true };
          expect((await upgraded.readStream('old'))[0]).toMatchObject({ schemaVersion: 3, data: expected });
          expect((await upgraded.readAll())[0]).toMatchObject({ schemaVersion: 3, data: expected });
          const streamed: RecordedEvent[] = [];
          for await (const e of upgraded.streamAll()) streamed.push(e);
          expect(streamed[1]!.data).toEqual({ fullName: 'Bob', v3: true });
          const { state } = await upgraded.aggregateStream('old', {
            initialState: () => [] as string[],
            evolve: (s, e) => [...s, (e.data as { fullName: string }).fullName],
          });
          expect(state).toEqual(['Ada', 'Bob']);
          await upgraded.close();
        }),
    );
  });
}
