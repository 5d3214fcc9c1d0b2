import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EventStore,
  InvalidArgumentError,
  isTesseraError,
  openSqlite,
  openSqliteEventStore,
  type Projector,
  projectionRef,
  projectionStatus,
  startProjector,
  storeDatabase,
  UnknownProjectionError,
  waitFor,
} from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { added } from './fixtures/cart.js';
import { cartTotals, foldTotals, totals } from './fixtures/projections.js';


const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { separateDb?: boolean } = {}): Promise<{ store: EventStore; projector: Projector; dir: string }> {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
  cleanups.push(() => store.close());
  const db = opts.separateDb ? openSqlite({ path: join(tmp.dir, 'read.db') }) : undefined;
  if (db) cleanups.push(() => db.close());
  const projector = await startProjector({ store, projections: [cartTotals], pollIntervalMs: 10, batchSize: 50, ...(db ? { db } : {}) });
  cleanups.push(() => projector.stop());
  return { store, projector, dir: tmp.dir };
}

describe('async projections (SQLite)', () => {
  for (const separateDb of [false, true]) {
    it(`project the log exactly once, with read-your-writes (${separateDb ? 'separate read database' : "store's database"})`, async () => {
      const { store, projector } = await setup({ separateDb });
      let last = 0n;
      for (let i = 0; i < 30; i++) {
        const r = await store.appendToStream(`cart-${i % 7}`, [added(`S${i}`, 1 + (i % 3), 10), { type: 'Ignored', data: {} }]);
        last = r.lastGlobalPosition;
      }
      await projector.waitFor('cart_totals', last, { timeoutMs: 5_000 });
      const all = await store.readAll();
      expect(await totals(projector.db)).toEqual(foldTotals(all));
      const applied = await projector.db.query<{ n: number }>('SELECT n FROM cart_applied');
      expect(applied.length).toBe(30);
      expect(applied.every((r) => Number(r.n) === 1)).toBe(true);
      const [status] = await projector.status();
      expect(status).toMatchObject({ name: 'cart_totals', kind: 'async', version: 1, state: 'running', lagEvents: 0n, lagMs: 0, failed: null });
      expect(status!.position).toBe(last);
      expect(status!.lease?.held).toBe(true);
    });
  }

  it('runs a query-bus read-your-writes wait through waitFor and times out with a typed error', async () => {
    const { store, projector } = await setup();
    const r = await store.appendToStream('c', [added('A')]);
    await waitFor(projector.ref('cart_totals'), r.lastGlobalPosition, { timeoutMs: 5_000 });
    const e = await waitFor(projector.ref('cart_totals'), r.lastGlobalPosition + 1_000n, { timeoutMs: 50 }).catch((x: unknown) => x);
    expect(isTesseraError(e, 'CONSISTENCY_TIMEOUT')).toBe(true);
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
    expect(() => projector.ref('other')).toThrow(InvalidArgumentError);
    const { projection } = await import('../../src/index.js');
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
  });
});
