import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createCommandBus,
  createQueryBus,
  type EventStore,
  handleCommand,
  InvalidArgumentError,
  isTesseraError,
  projection,
  projectionRef,
  projectionStatus,
  type Projector,
  startProjector,
  storeDatabase,
  UnknownProjectionError,
  waitFor,
} from '../../src/index.js';
import { ADAPTERS, type CqrsAdapter } from './fixtures/adapters.js';
import { added, cartDecider } from './fixtures/cart.js';
import { cartTotals, foldTotals, totals } from './fixtures/projections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

for (const { name, create } of ADAPTERS) {
  describe(`async projections (${name})`, () => {
    async function setup(opts: { separateDb?: boolean } = {}): Promise<{ store: EventStore; projector: Projector; adapter: CqrsAdapter }> {
      const adapter = create();
      cleanups.push(() => adapter.cleanup());
      const store = await adapter.openStore();
      const db = opts.separateDb ? await adapter.openReadDb() : undefined;
      const projector = await startProjector({ store, projections: [cartTotals], pollIntervalMs: 10, batchSize: 50, ...(db ? { db } : {}) });
      cleanups.push(() => projector.stop());
      return { store, projector, adapter };
    }

    for (const separateDb of [false, true]) {
      it(`project the log exactly once, with read-your-writes (${separateDb ? 'separate read database' : "store's database"})`, async () => {
        const { store, projector } = await setup({ separateDb });
        let last = 0n;
        for (let i = 0; i < 30; i++) {
          const r = await store.appendToStream(`cart-${i % 7}`, [added(`S${i}`, 1 + (i % 3), 10), { type: 'Ignored', data: {} }]);
          last = r.lastGlobalPosition;
        }
        await projector.waitFor('cart_totals', last, { timeoutMs: 10_000 });
        const all = await store.readAll();
        expect(await totals(projector.db)).toEqual(foldTotals(all));
        const applied = await projector.db.query<{ n: number }>('SELECT n FROM cart_applied');
        expect(applied.length).toBe(30);
        expect(applied.every((r) => Number(r.n) === 1)).toBe(true);
        const [status] = await projector.status();
        expect(status).toMatchObject({ name: 'cart_totals', kind: 'async', version: 1, state: 'running', lagEvents: 0n, lagMs: 0, failed: null });
        expect(status!.position).toBe(last);
        expect(status!.lease?.held).toBe(true);
        // Lag counts events, not positions (PostgreSQL's positions are sparse).
        await projector.stop();
        for (let i = 0; i < 5; i++) await store.appendToStream('late', [added('L')]);
        const [stopped] = await projectionStatus(projector.db, store, { names: ['cart_totals'] });
        expect(stopped).toMatchObject({ lagEvents: 5n, lease: { held: false } });
        expect(stopped!.lagMs).toBeGreaterThanOrEqual(0);
      });
    }

    it('query bus read-your-writes waits for the projection; waitFor times out with a typed error', async () => {
      const { store, projector } = await setup();
      const commands = createCommandBus().register('AddItem', {
        schema: z.object({ cartId: z.string(), sku: z.string(), qty: z.number().int().positive(), price: z.number() }),
        handle: (p) => handleCommand(store, p.cartId, { type: 'AddItem', ...p }, cartDecider),
      });
      const queries = createQueryBus().register('CartTotal', {
        schema: z.object({ cartId: z.string() }),
        projections: [projector.ref('cart_totals')],
        handle: async (p) => {
          const [row] = await projector.db.query<{ total: number }>('SELECT total FROM cart_totals WHERE cart_id = ?', [p.cartId]);
          return row === undefined ? null : Number(row.total);
        },
      });
      let last = 0n;
      for (let i = 1; i <= 5; i++) {
        const r = await commands.send('AddItem', { cartId: 'c-ryw', sku: `S${i}`, qty: 1, price: 10 });
        expect(await queries.send('CartTotal', { cartId: 'c-ryw' }, { consistency: 'read-your-writes', after: r.lastGlobalPosition, timeoutMs: 10_000 })).toBe(10 * i);
        last = r.lastGlobalPosition;
      }
      // Positions are engine-specific (PostgreSQL's may be large): stay relative to the last one.
      const e = await waitFor(projector.ref('cart_totals'), last + 1_000n, { timeoutMs: 50 }).catch((x: unknown) => x);
      expect(isTesseraError(e, 'CONSISTENCY_TIMEOUT'), String(e)).toBe(true);
      const q = await queries.send('CartTotal', { cartId: 'c-ryw' }, { consistency: 'read-your-writes', after: last + 1_000n, timeoutMs: 50 }).catch((x: unknown) => x);
      expect(isTesseraError(q, 'CONSISTENCY_TIMEOUT')).toBe(true);
      await store.appendToStream('x', [added('A')]);
    });

    it('rejects bad input: unknown projection, invalid definition, bad positions', async () => {
      const { store, projector } = await setup();
      const db = storeDatabase(store);
      await expect(waitFor(projectionRef(db, 'nope'), 1n)).rejects.toBeInstanceOf(UnknownProjectionError);
      await expect(projectionStatus(db, store, { names: ['nope'] })).rejects.toBeInstanceOf(UnknownProjectionError);
      for (const bad of [-1n, 1 as unknown as bigint, '3' as unknown as bigint, undefined as unknown as bigint]) {
        await expect(waitFor(projector.ref('cart_totals'), bad)).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(waitFor(projector.ref('cart_totals'), 1n, { timeoutMs: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(waitFor({ name: 'cart_totals' } as never, 1n)).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(() => projector.ref('other')).toThrow(InvalidArgumentError);
      const base = { name: 'p', version: 1, tables: ['t'], setup: () => undefined, apply: () => undefined };
      for (const bad of [
        { ...base, name: '' },
        { ...base, name: 'has space' },
        { ...base, version: 0 },
        { ...base, tables: [] },
        { ...base, tables: ['drop table x;'] },
        { ...base, tables: ['t', 't'] },
        { ...base, handles: [] },
        { ...base, apply: 'x' },
        null,
      ]) {
        expect(() => projection(bad as never)).toThrow(InvalidArgumentError);
      }
      await expect(startProjector({ store, projections: [base as never] })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(startProjector({ store, projections: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(startProjector({ store, projections: [cartTotals], batchSize: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(startProjector({ store, projections: [cartTotals, cartTotals] })).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  });
}

describe('async projections across engines', () => {
  it('project a SQLite store into a PostgreSQL read model', async () => {
    const sqlite = ADAPTERS.find((a) => a.name === 'SQLite')!.create();
    const postgres = ADAPTERS.find((a) => a.name === 'PostgreSQL')!.create();
    cleanups.push(() => sqlite.cleanup(), () => postgres.cleanup());
    const store = await sqlite.openStore();
    const db = await postgres.openReadDb();
    const projector = await startProjector({ store, db, projections: [cartTotals], pollIntervalMs: 10 });
    cleanups.push(() => projector.stop());
    let last = 0n;
    for (let i = 0; i < 20; i++) last = (await store.appendToStream(`c${i % 3}`, [added('A', 1, i + 1)])).lastGlobalPosition;
    await projector.waitFor('cart_totals', last, { timeoutMs: 10_000 });
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));
  });
});
