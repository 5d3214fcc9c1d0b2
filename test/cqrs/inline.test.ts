import { describe, expect, it } from 'vitest';
import { inlineProjections, InvalidArgumentError, projection, projectionRef, projectionSpec, storeDatabase, waitFor } from '../../src/index.js';
import { ADAPTERS } from './fixtures/adapters.js';
import { added } from './fixtures/cart.js';
import { cartTotals, foldTotals, totals } from './fixtures/projections.js';

for (const { name, create } of ADAPTERS) describe(`inline projections (${name})`, () => {
  it('commit with the append and roll it back when apply throws', async () => {
    const adapter = create();
    const store = await adapter.openStore({ appendHooks: inlineProjections([cartTotals]) });
    const db = storeDatabase(store);
    await Promise.all([
      store.appendToStream('a', [added('X', 2, 3)]),
      store.appendToStream('b', [added('Y', 1, 4), added('Z', 1, 1)]),
      store.appendToStream('c', [added('Q'), { type: 'Poison', data: {} }]).catch((e: unknown) => e),
    ]);
    await expect(store.appendToStream('d', [{ type: 'Poison', data: {} }])).rejects.toThrow(/poison/);
    expect(await store.streamExists('c')).toBe(false);
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));
    const r = await store.appendToStream('a', [added('W')]);
    await waitFor(projectionRef(db, 'cart_totals'), r.lastGlobalPosition, { timeoutMs: 1 }); // inline: never waits
    await adapter.cleanup();
  });

  it('refuse a changed version and bad definitions', async () => {
    const adapter = create();
    const s1 = await adapter.openStore({ appendHooks: inlineProjections([cartTotals]) });
    await s1.close();
    await expect(adapter.openStore({ appendHooks: inlineProjections([projection({ ...cartTotals, version: 2 })]) })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => inlineProjections([cartTotals, cartTotals])).toThrow(InvalidArgumentError);
    expect(() => inlineProjections([{ name: 'x' } as never])).toThrow(InvalidArgumentError);
    await adapter.cleanup();
  });
});

describe('projection spec (Given/When/Then)', () => {
  it('checks the read model after given and when events', async () => {
    const spec = projectionSpec(cartTotals);
    await spec
      .given([{ ...added('A', 1, 5), streamId: 'c1' }])
      .when([{ ...added('B', 2, 5), streamId: 'c1' }, { ...added('A', 1, 1), streamId: 'c2' }])
      .thenRows((t) => `SELECT cart_id, total FROM ${t.cart_totals} ORDER BY cart_id`, [{ cart_id: 'c1', total: 15 }, { cart_id: 'c2', total: 1 }]);
    await spec.given([]).when([{ type: 'Poison', data: {} }]).thenThrows((e) => /poison/.test(String(e)));
    await spec.given([]).when([{ type: 'Other', data: {} }]).then(async (db, t) => {
      expect(await db.query(`SELECT * FROM ${t.cart_totals}`)).toEqual([]);
    });
    await expect(spec.given([]).when([]).thenRows((t) => `SELECT * FROM ${t.cart_totals}`, [{ cart_id: 'x' }])).rejects.toThrow();
    await expect(spec.given([]).when([]).thenThrows()).rejects.toThrow(/expected apply to throw/);
  });
});
