import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/index.js';
import { type ConformanceContext, events, withStore } from './harness.js';

const ns = (es: RecordedEvent[]): number[] => es.map((e) => (e.data as { n: number }).n);

/** Reads: streams forward and backward, the global log, streaming reads, existence, persistence. */
export function readCases(ctx: ConformanceContext): void {
  describe('readStream', () => {
    it('reads forward and backward, fromVersion inclusive, with maxCount', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('r', events(10));
        expect(ns(await store.readStream('r'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(ns(await store.readStream('r', { fromVersion: 4n }))).toEqual([3, 4, 5, 6, 7, 8, 9]);
        expect(ns(await store.readStream('r', { fromVersion: 4n, maxCount: 2 }))).toEqual([3, 4]);
        expect(ns(await store.readStream('r', { direction: 'backward' }))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(ns(await store.readStream('r', { direction: 'backward', fromVersion: 4n }))).toEqual([3, 2, 1, 0]);
        expect(ns(await store.readStream('r', { direction: 'backward', maxCount: 3 }))).toEqual([9, 8, 7]);
        expect(await store.readStream('r', { fromVersion: 11n })).toEqual([]);
        expect(await store.readStream('missing')).toEqual([]);
      }));
  });

  describe('readAll', () => {
    it('reads the global log in position order, fromPosition inclusive, maxCount and types', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('a', events(3, 'A'));
        await store.appendToStream('b', events(3, 'B', 3));
        await store.appendToStream('a', events(3, 'C', 6));
        const all = await store.readAll();
        expect(ns(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
        const p4 = all[4]!.globalPosition;
        expect(ns(await store.readAll({ fromPosition: p4 }))).toEqual([4, 5, 6, 7, 8]);
        expect(ns(await store.readAll({ fromPosition: p4, maxCount: 2 }))).toEqual([4, 5]);
        expect(ns(await store.readAll({ types: ['C', 'A'] }))).toEqual([0, 1, 2, 6, 7, 8]);
        expect(ns(await store.readAll({ types: ['C', 'A'], maxCount: 4 }))).toEqual([0, 1, 2, 6]);
        expect(ns(await store.readAll({ types: ['B'], fromPosition: p4 }))).toEqual([4, 5]);
        expect(await store.readAll({ types: ['Nope'] })).toEqual([]);
        expect(await store.readAll({ fromPosition: all[8]!.globalPosition + 1n })).toEqual([]);
      }));

    it('returns the same events as readStream, in stream order within each stream', () =>
      withStore(ctx, async (store) => {
        for (let i = 0; i < 20; i++) await store.appendToStream(`m-${i % 4}`, events(1, 'M', i));
        const all = await store.readAll();
        for (let s = 0; s < 4; s++) {
          const fromAll = all.filter((e) => e.streamId === `m-${s}`);
          expect(fromAll).toEqual(await store.readStream(`m-${s}`));
        }
      }));
  });

  describe('streamAll', () => {
    it('iterates the whole log in pages, in order, with types and fromPosition', () =>
      withStore(ctx, async (store) => {
        for (let i = 0; i < 5; i++) await store.appendToStream(`sa-${i}`, events(50, i % 2 ? 'Odd' : 'Even', i * 50));
        const seen: number[] = [];
        for await (const e of store.streamAll({ batchSize: 7 })) seen.push((e.data as { n: number }).n);
        expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
        const odd: number[] = [];
        for await (const e of store.streamAll({ types: ['Odd'], batchSize: 13 })) odd.push((e.data as { n: number }).n);
        expect(odd.length).toBe(100);
        const all = await store.readAll();
        const tail: bigint[] = [];
        for await (const e of store.streamAll({ fromPosition: all[240]!.globalPosition })) tail.push(e.globalPosition);
        expect(tail).toEqual(all.slice(240).map((e) => e.globalPosition));
      }));

    it('yields nothing on an empty store', () =>
      withStore(ctx, async (store) => {
        const got: unknown[] = [];
        for await (const e of store.streamAll()) got.push(e);
        expect(got).toEqual([]);
      }));
  });

  describe('readEventsById', () => {
    it('returns stored events by id in global order, leaving out unknown ids', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('byid', [{ id: 'e-1', type: 'A', data: { n: 1 } }, { id: 'e-2', type: 'B', data: { n: 2 } }]);
        await store.appendToStream('byid-2', [{ id: 'e-3', type: 'C', data: { n: 3 } }]);
        const got = await store.readEventsById(['e-3', 'nope', 'e-1', 'e-1']);
        expect(got.map((e) => e.id)).toEqual(['e-1', 'e-3']);
        expect(got[1]).toMatchObject({ streamId: 'byid-2', streamVersion: 1n, type: 'C', data: { n: 3 } });
        expect(await store.readEventsById([])).toEqual([]);
      }));
  });

  describe('streamExists', () => {
    it('tells whether a stream has events', () =>
      withStore(ctx, async (store) => {
        expect(await store.streamExists('x')).toBe(false);
        await store.appendToStream('x', events(1));
        expect(await store.streamExists('x')).toBe(true);
        expect(await store.streamExists('y')).toBe(false);
      }));
  });

  describe('shared database', () => {
    it.skipIf(!ctx.capabilities.has('sharedDatabase'))(
      'persists across handles: a second handle reads and appends with correct versions [needs capability sharedDatabase; skipped without it]',
      () =>
        withStore(ctx, async (store, harness) => {
          await store.appendToStream('p', events(2));
          const second = await harness.open();
          expect(ns(await second.readStream('p'))).toEqual([0, 1]);
          await expect(second.appendToStream('p', events(1), { expectedVersion: 1n })).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
          await second.appendToStream('p', events(1, 'Happened', 2), { expectedVersion: 2n });
          expect(ns(await store.readStream('p'))).toEqual([0, 1, 2]);
          await second.close();
        }),
    );
  });
}
