import { describe, expect, it } from 'vitest';
import { ConcurrencyError, isTesseraError, TesseraError } from '../../../src/index.js';
import { type ConformanceContext, events, logSnapshot, withStore } from './harness.js';

/** Appends: versions, positions, expected versions, atomic batches, idempotent ids, concurrency. */
export function appendCases(ctx: ConformanceContext): void {
  describe('appendToStream', () => {
    it('numbers stream versions from 1 and global positions strictly increasing', () =>
      withStore(ctx, async (store) => {
        const r1 = await store.appendToStream('s-1', events(2));
        const r2 = await store.appendToStream('s-2', events(1));
        const r3 = await store.appendToStream('s-1', events(1, 'Happened', 2));
        expect(r1.nextExpectedVersion).toBe(2n);
        expect(r2.nextExpectedVersion).toBe(1n);
        expect(r3.nextExpectedVersion).toBe(3n);
        expect(r2.lastGlobalPosition).toBeGreaterThan(r1.lastGlobalPosition);
        expect(r3.lastGlobalPosition).toBeGreaterThan(r2.lastGlobalPosition);
        const s1 = await store.readStream('s-1');
        expect(s1.map((e) => e.streamVersion)).toEqual([1n, 2n, 3n]);
        expect(s1.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2]);
        expect(s1[2]!.globalPosition).toBe(r3.lastGlobalPosition);
        for (const e of s1) {
          expect(typeof e.streamVersion).toBe('bigint');
          expect(typeof e.globalPosition).toBe('bigint');
          expect(e.recordedAt).toBeInstanceOf(Date);
          expect(e.schemaVersion).toBe(1);
          expect(e.streamId).toBe('s-1');
          expect(typeof e.id).toBe('string');
        }
      }));

    it('keeps ids, types, data and metadata exactly, and recordedAt to the millisecond', () =>
      withStore(
        ctx,
        async (store) => {
          const data = { s: 'é ✓ 😀', n: -1.5, b: true, z: null, a: [1, { x: 'y' }], nested: { deep: { k: [] } } };
          await store.appendToStream('keep', [{ id: 'evt-keep-1', type: 'Kept', data, metadata: { user: 'u1', tags: ['a'] } }]);
          const [e] = await store.readStream('keep');
          expect(e).toMatchObject({ id: 'evt-keep-1', type: 'Kept', data, metadata: { user: 'u1', tags: ['a'] } });
          expect(e!.recordedAt.getTime()).toBe(1_700_000_000_123);
        },
        { clock: { now: () => 1_700_000_000_123 } },
      ));

    it('accepts every expectedVersion form and refuses the wrong ones with ConcurrencyError', () =>
      withStore(ctx, async (store) => {
        await expect(store.appendToStream('ev', events(1), { expectedVersion: 'stream_exists' })).rejects.toBeInstanceOf(ConcurrencyError);
        await store.appendToStream('ev', events(1), { expectedVersion: 'no_stream' });
        await expect(store.appendToStream('ev', events(1), { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(ConcurrencyError);
        await expect(store.appendToStream('ev', events(1), { expectedVersion: 0n })).rejects.toBeInstanceOf(ConcurrencyError);
        await store.appendToStream('ev', events(1), { expectedVersion: 'stream_exists' });
        await store.appendToStream('ev', events(1), { expectedVersion: 2n });
        await store.appendToStream('ev', events(1), { expectedVersion: 'any' });
        await store.appendToStream('ev', events(1));
        const err = await store.appendToStream('ev', events(1), { expectedVersion: 3n }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConcurrencyError);
        expect(err).toBeInstanceOf(TesseraError);
        expect(err).toMatchObject({ code: 'CONCURRENCY_CONFLICT', streamId: 'ev', expected: 3n, actual: 5n, retryable: true });
        expect(isTesseraError(err, 'CONCURRENCY_CONFLICT')).toBe(true);
        await store.appendToStream('ev-zero', events(1), { expectedVersion: 0n });
        expect((await store.readStream('ev')).length).toBe(5);
      }));

    it('writes a batch all or nothing', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('batch', events(3));
        const before = await logSnapshot(store);
        await expect(store.appendToStream('batch', events(5), { expectedVersion: 1n })).rejects.toBeInstanceOf(ConcurrencyError);
        expect(await logSnapshot(store)).toBe(before);
        const r = await store.appendToStream('batch', events(100), { expectedVersion: 3n });
        expect(r.nextExpectedVersion).toBe(103n);
        const all = await store.readStream('batch');
        expect(all.map((e) => e.streamVersion)).toEqual(Array.from({ length: 103 }, (_, i) => BigInt(i + 1)));
      }));

    it('treats a repeated event id with the same content as a retry: nothing new, same result', () =>
      withStore(ctx, async (store) => {
        const batch = [
          { id: 'idem-1', type: 'A', data: { v: 1 } },
          { id: 'idem-2', type: 'B', data: { v: 2 } },
        ];
        const first = await store.appendToStream('idem', batch, { expectedVersion: 'no_stream' });
        await store.appendToStream('other', events(1));
        const again = await store.appendToStream('idem', batch, { expectedVersion: 'no_stream' });
        expect(again).toEqual(first);
        const again2 = await store.appendToStream('idem', batch);
        expect(again2).toEqual(first);
        expect((await store.readStream('idem')).map((e) => e.id)).toEqual(['idem-1', 'idem-2']);
        expect((await store.readAll()).length).toBe(3);
      }));

    it('refuses an event id reused with other content, in another stream, or in a partial batch', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('ids', [{ id: 'dup-1', type: 'A', data: { v: 1 } }]);
        const before = await logSnapshot(store);
        // Caught at once: on a server a later one may fail before an earlier one is awaited.
        const cases = [
          store.appendToStream('ids', [{ id: 'dup-1', type: 'A', data: { v: 2 } }]),
          store.appendToStream('ids', [{ id: 'dup-1', type: 'Other', data: { v: 1 } }]),
          store.appendToStream('ids-elsewhere', [{ id: 'dup-1', type: 'A', data: { v: 1 } }]),
          store.appendToStream('ids', [{ id: 'dup-1', type: 'A', data: { v: 1 } }, { id: 'fresh', type: 'A', data: {} }]),
        ].map((p) => p.catch((e: unknown) => e));
        for (const c of cases) {
          const err = await c;
          expect(isTesseraError(err)).toBe(true);
          expect(err).not.toBeInstanceOf(ConcurrencyError);
        }
        expect(await logSnapshot(store)).toBe(before);
      }));

    it('lets exactly one of many concurrent appends with the same expected version win', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('race', events(1));
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.appendToStream('race', events(1, 'Raced', i), { expectedVersion: 1n })),
        );
        const ok = results.filter((r) => r.status === 'fulfilled');
        const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof ConcurrencyError);
        expect(ok.length).toBe(1);
        expect(conflicts.length).toBe(19);
        expect((await store.readStream('race')).map((e) => e.streamVersion)).toEqual([1n, 2n]);
      }));

    it('serializes concurrent appends with "any" into contiguous versions, none lost', () =>
      withStore(ctx, async (store) => {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => store.appendToStream(`any-${i % 3}`, events(2, 'Any', i * 2))),
        );
        expect(results.length).toBe(30);
        for (let s = 0; s < 3; s++) {
          const stream = await store.readStream(`any-${s}`);
          expect(stream.map((e) => e.streamVersion)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
        }
        const positions = (await store.readAll()).map((e) => e.globalPosition);
        expect(positions.length).toBe(60);
        expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
        expect(new Set(positions).size).toBe(60);
      }));

    it('copies correlation and causation ids into metadata without overwriting explicit ones', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream(
          'corr',
          [{ type: 'A', data: {} }, { type: 'B', data: {}, metadata: { correlationId: 'mine', x: 1 } }],
          { correlationId: 'c-1', causationId: 'cause-1' },
        );
        const [a, b] = await store.readStream('corr');
        expect(a!.metadata).toEqual({ correlationId: 'c-1', causationId: 'cause-1' });
        expect(b!.metadata).toEqual({ correlationId: 'mine', causationId: 'cause-1', x: 1 });
      }));

    it('generates ids with the injected generator and stamps time with the injected clock', () => {
      let n = 0;
      return withStore(
        ctx,
        async (store) => {
          await store.appendToStream('inject', events(2));
          const got = await store.readStream('inject');
          expect(got.map((e) => e.id)).toEqual(['gen-1', 'gen-2']);
          expect(got.every((e) => e.recordedAt.getTime() === 42_000)).toBe(true);
        },
        { ids: () => `gen-${++n}`, clock: { now: () => 42_000 } },
      );
    });

    it('accepts stream ids up to 512 UTF-8 bytes, multi-byte included', () =>
      withStore(ctx, async (store) => {
        const id = 'é'.repeat(256); // 512 bytes
        await store.appendToStream(id, events(1));
        expect(await store.streamExists(id)).toBe(true);
        expect((await store.readStream(id)).length).toBe(1);
      }));
  });
}
