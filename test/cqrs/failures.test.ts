import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ProjectionFailedError,
  projectionStatus,
  retryProjection,
  skipProjection,
  startProjector,
  UnknownProjectionError,
} from '../../src/index.js';
import { ADAPTERS } from './fixtures/adapters.js';
import { added } from './fixtures/cart.js';
import { cartTotals, foldTotals, poisonCured, totals } from './fixtures/projections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const { name, create } of ADAPTERS) describe(`poison events (${name})`, () => {
  it('retry, park in failed with the event id, then retry or skip on operator request', async () => {
    const adapter = create();
    cleanups.push(() => adapter.cleanup());
    const store = await adapter.openStore();
    const projector = await startProjector({ store, projections: [cartTotals], pollIntervalMs: 10, retry: { maxAttempts: 3, initialDelayMs: 5, maxDelayMs: 10 } });
    cleanups.push(() => projector.stop());
    const retries: number[] = [];
    projector.events.on('retrying', (r: { attempt: number }) => retries.push(r.attempt));
    const db = projector.db;

    const before = await store.appendToStream('a', [added('A', 1, 1), added('B', 1, 2)]);
    const p1 = await store.appendToStream('a', [{ type: 'Poison', data: {}, id: `poison-1-${name}` }]);
    const after = await store.appendToStream('b', [added('C', 1, 4)]);
    await until(async () => (await projectionStatus(db, store))[0]!.state === 'failed');
    let [s] = await projectionStatus(db, store);
    expect(s!.failed).toMatchObject({ eventId: `poison-1-${name}`, position: p1.lastGlobalPosition, attempts: 3, track: 'live' });
    expect(s!.failed!.error).toMatch(new RegExp(`poison poison-1-${name}`));
    expect(s!.position).toBe(before.lastGlobalPosition); // the events before the poison were applied
    expect(retries).toEqual([1, 2]);
    await expect(projector.waitFor('cart_totals', after.lastGlobalPosition, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(ProjectionFailedError);

    // Operator: retry after "deploying a fix".
    poisonCured.add(`poison-1-${name}`);
    await retryProjection(db, 'cart_totals');
    await projector.waitFor('cart_totals', after.lastGlobalPosition, { timeoutMs: 5_000 });

    // A second poison is skipped instead.
    const p2 = await store.appendToStream('c', [{ type: 'Poison', data: {}, id: `poison-2-${name}` }]);
    const last = await store.appendToStream('c', [added('D', 1, 8)]);
    await until(async () => (await projectionStatus(db, store))[0]!.state === 'failed');
    expect(await skipProjection(db, 'cart_totals')).toEqual({ eventId: `poison-2-${name}`, position: p2.lastGlobalPosition });
    await projector.waitFor('cart_totals', last.lastGlobalPosition, { timeoutMs: 5_000 });
    [s] = await projectionStatus(db, store);
    expect(s!.state).toBe('running');
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));
    const applied = await db.query<{ event_id: string; n: number }>('SELECT event_id, n FROM cart_applied ORDER BY position');
    expect(applied.map((r) => r.event_id)).toContain(`poison-1-${name}`);
    expect(applied.map((r) => r.event_id)).not.toContain(`poison-2-${name}`);
    expect(applied.every((r) => Number(r.n) === 1)).toBe(true);

    await expect(retryProjection(db, 'cart_totals')).rejects.toBeInstanceOf(InvalidArgumentError); // not failed
    await expect(skipProjection(db, 'cart_totals')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(retryProjection(db, 'nope')).rejects.toBeInstanceOf(UnknownProjectionError);
    await expect(skipProjection(db, 'nope')).rejects.toBeInstanceOf(UnknownProjectionError);
  });
});
