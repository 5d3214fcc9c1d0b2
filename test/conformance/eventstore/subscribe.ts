import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/index.js';
import { type ConformanceContext, events, until, withStore } from './harness.js';

/** subscribeToAll: catch-up then live, order, position, stop, handler retries and failure. */
export function subscribeCases(ctx: ConformanceContext): void {
  describe('subscribeToAll', () => {
    it('catches up, then delivers live events, in global order, each once', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('sub-a', events(5));
        const got: RecordedEvent[] = [];
        const sub = store.subscribeToAll({ handler: (e) => void got.push(e), pollIntervalMs: 20 });
        await until(() => got.length === 5);
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendToStream(`sub-${i % 4}`, events(1, 'Live', i))));
        await until(() => got.length === 25);
        await sub.stop();
        const all = await store.readAll();
        expect(got.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
        expect(got).toEqual(all);
        expect(sub.position).toBe(all[24]!.globalPosition);
        await expect(sub.done).resolves.toBeUndefined();
      }));

    it('starts at fromPosition inclusive, and resumes without loss or repeat from position + 1n', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('res', events(10));
        const all = await store.readAll();
        const first: bigint[] = [];
        const sub1 = store.subscribeToAll({ fromPosition: all[3]!.globalPosition, handler: (e) => void first.push(e.globalPosition) });
        await until(() => first.length === 7);
        await sub1.stop();
        expect(first).toEqual(all.slice(3).map((e) => e.globalPosition));
        await store.appendToStream('res', events(3, 'More', 10));
        const second: bigint[] = [];
        const sub2 = store.subscribeToAll({ fromPosition: sub1.position + 1n, handler: (e) => void second.push(e.globalPosition) });
        await until(() => second.length === 3);
        await sub2.stop();
        const after = await store.readAll();
        expect([...first, ...second]).toEqual(after.slice(3).map((e) => e.globalPosition));
      }));

    it('reports position fromPosition - 1n (0n from the start) before the first event', () =>
      withStore(ctx, async (store) => {
        const sub = store.subscribeToAll({ fromPosition: 7n, handler: () => undefined });
        expect(sub.position).toBe(6n);
        await sub.stop();
        const sub0 = store.subscribeToAll({ handler: () => undefined });
        expect(sub0.position).toBe(0n); // positions start at 1n, so resuming from 1n loses nothing
        await sub0.stop();
      }));

    it('awaits each handler before delivering the next event', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('seq', events(10));
        let active = 0;
        let maxActive = 0;
        const got: number[] = [];
        const sub = store.subscribeToAll({
          handler: async (e) => {
            active++;
            maxActive = Math.max(maxActive, active);
            await new Promise((r) => setTimeout(r, 2));
            got.push((e.data as { n: number }).n);
            active--;
          },
        });
        await until(() => got.length === 10);
        await sub.stop();
        expect(maxActive).toBe(1);
        expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }));

    it('retries a throwing handler and delivers the event once it succeeds', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('flaky', events(3));
        let failures = 0;
        const got: number[] = [];
        const sub = store.subscribeToAll({
          retry: { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5 },
          handler: (e) => {
            const n = (e.data as { n: number }).n;
            if (n === 1 && failures < 2) {
              failures++;
              throw new Error('transient');
            }
            got.push(n);
          },
        });
        await until(() => got.length === 3);
        await sub.stop();
        expect(failures).toBe(2);
        expect(got).toEqual([0, 1, 2]);
      }));

    it('stops and rejects done with the handler error when retries run out, never skipping the event', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('poison', events(3));
        const all = await store.readAll();
        const got: number[] = [];
        const boom = new Error('poison event');
        const sub = store.subscribeToAll({
          retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
          handler: (e) => {
            if ((e.data as { n: number }).n === 1) throw boom;
            got.push((e.data as { n: number }).n);
          },
        });
        await expect(sub.done).rejects.toBe(boom);
        expect(got).toEqual([0]);
        expect(sub.position).toBe(all[0]!.globalPosition);
        await sub.stop();
      }));

    it('filters by types while keeping order', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('ty', [...events(2, 'Keep'), ...events(2, 'Drop', 2), ...events(2, 'Keep', 4)]);
        const got: number[] = [];
        const sub = store.subscribeToAll({ types: ['Keep'], handler: (e) => void got.push((e.data as { n: number }).n) });
        await until(() => got.length === 4);
        await sub.stop();
        expect(got).toEqual([0, 1, 4, 5]);
      }));

    it('can be stopped from inside its own handler', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('self-stop', events(5));
        const got: number[] = [];
        const sub = store.subscribeToAll({
          handler: async (e) => {
            got.push((e.data as { n: number }).n);
            if (got.length === 2) await sub.stop();
          },
        });
        await sub.done;
        expect(got).toEqual([0, 1]);
      }));

    it.skipIf(!ctx.capabilities.has('sharedDatabase'))(
      'sees events appended through another handle of the same database [needs capability sharedDatabase; skipped without it]',
      () =>
        withStore(ctx, async (store, harness) => {
          const other = await harness.open();
          const got: bigint[] = [];
          const sub = store.subscribeToAll({ pollIntervalMs: 10, handler: (e) => void got.push(e.streamVersion) });
          for (let i = 0; i < 5; i++) await other.appendToStream('remote', events(1, 'R', i));
          await until(() => got.length === 5);
          await sub.stop();
          expect(got).toEqual([1n, 2n, 3n, 4n, 5n]);
          await other.close();
        }),
    );
  });
}
