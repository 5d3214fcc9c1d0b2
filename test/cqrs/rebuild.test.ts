import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  type openSqliteEventStore,
  projection,
  projectionRef,
  projectionStatus,
  type RebuildProgress,
  RebuildWatch,
  requestRebuild,
  startProjector,
  storeDatabase,
  waitFor,
} from '../../src/index.js';
import { ADAPTERS } from './fixtures/adapters.js';
import { ProjectorChild, sharedStore } from './fixtures/child.js';
import { added } from './fixtures/cart.js';
import { cartTotals, foldTotals, totals } from './fixtures/projections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fill(store: Awaited<ReturnType<typeof openSqliteEventStore>>, n: number, prefix: string): Promise<bigint> {
  let last = 0n;
  for (let i = 0; i < n; i += 50) {
    const r = await store.appendToStream(`${prefix}-${i % 97}`, Array.from({ length: 50 }, (_, j) => added(`S${j}`, 1 + (j % 3), 1 + (i % 5))));
    last = r.lastGlobalPosition;
  }
  return last;
}

for (const engine of ['SQLite', 'PostgreSQL'] as const) describe(`rebuild under load (${engine}, projector in a child process)`, () => {
  it('rebuild under load: readers never see a half-built model; the swapped model is caught up and equals the fold', { timeout: 120_000 }, async () => {
    const shared = await sharedStore(engine);
    cleanups.push(() => shared.cleanup());
    const { store } = shared;
    const db = storeDatabase(store);
    const prefill = engine === 'SQLite' ? 20_000 : 4_000; // every apply is a server round trip on PostgreSQL
    const prefilled = await fill(store, prefill, 'pre');
    // The projector runs in its own process; this one writes and reads through its own connection.
    const child = new ProjectorChild({ ...shared.env, BATCH: '200', POLL_MS: '5' });
    cleanups.push(() => child.kill());
    await child.next((l) => l.ev === 'ready');
    await waitFor(projectionRef(db, 'cart_totals'), prefilled, { timeoutMs: 60_000, pollIntervalMs: 20 });

    let writing = true;
    // Load the projector can keep up with while it also rebuilds (a PostgreSQL apply is a round trip).
    const pauseMs = engine === 'SQLite' ? 1 : 120;
    const writers = [0, 1, 2].map(async (w) => {
      let last = 0n;
      for (let i = 0; writing || i < 20; i++) {
        last = (await store.appendToStream(`load${w}-${i % 13}`, Array.from({ length: 10 }, (_, j) => added(`S${j}`, 1, 1 + (j % 4))))).lastGlobalPosition;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      return last;
    });
    cleanups.push(async () => {
      writing = false;
      await Promise.allSettled(writers);
    });
    // Readers: the model only grows (every event adds a row), so a half-built model would show a drop.
    let reading = true;
    let reads = 0;
    let drops = 0;
    cleanups.push(() => {
      reading = false;
    });
    const reader = (async () => {
      let prev = 0;
      while (reading) {
        const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM cart_applied');
        const n = Number(row?.n ?? 0);
        if (n < prev) drops++;
        prev = n;
        reads++;
        await new Promise((r) => setTimeout(r, 3));
      }
    })();
    await requestRebuild(db, 'cart_totals');
    await expect(requestRebuild(db, 'cart_totals')).rejects.toBeInstanceOf(InvalidArgumentError);
    const watch = new RebuildWatch(db, store, 'cart_totals', { intervalMs: engine === 'SQLite' ? 20 : 100 });
    const watched: RebuildProgress[] = [];
    watch.on('progress', (p: RebuildProgress) => watched.push(p));
    const [s0] = await projectionStatus(db, store);
    expect(s0!.state).toBe('rebuilding');
    const done = await watch.done;
    writing = false;
    const last = (await Promise.all(writers)).reduce((a, b) => (a > b ? a : b));
    await waitFor(projectionRef(db, 'cart_totals'), last, { timeoutMs: 30_000 });
    reading = false;
    await reader;

    const swapped = await child.next((l) => l.ev === 'swapped');
    expect(BigInt(swapped.position as string)).toBeGreaterThan(prefilled); // writers appended during the rebuild
    expect(done.version).toBe(1);
    // How many reports land mid-way depends on speed; each must be sane and the last one complete.
    expect(watched.every((p) => p.percent >= 0 && p.percent <= 100 && p.processed >= 0 && p.remaining >= 0)).toBe(true);
    expect(watched.at(-1)?.percent).toBe(100);
    expect(drops).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));
    const total = (await store.readAll()).length;
    const applied = await db.query<{ c: number; s: number }>('SELECT count(*) AS c, sum(n) AS s FROM cart_applied');
    expect(Number(applied[0]!.c)).toBe(total);
    expect(Number(applied[0]!.s)).toBe(total);
    const tables = await db.query<{ name: string }>(
      engine === 'SQLite'
        ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'cart_%' ORDER BY name"
        : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'cart_%' ORDER BY table_name",
    );
    expect(tables.map((t) => t.name)).toEqual(['cart_applied', 'cart_totals']);
    const [s] = await projectionStatus(db, store);
    expect(s).toMatchObject({ state: 'running', rebuild: null, lagEvents: 0n });
    const rate = Math.max(0, ...watched.map((p) => p.eventsPerSec));
    console.log(`rebuild under load (${engine}): ${total - prefill} events appended by concurrent writers, ${reads} reads, ${watched.length} progress reports, ~${Math.round(rate)} events/s`);
  });

});

for (const { name, create } of ADAPTERS) describe(`rebuild on a version bump (${name})`, () => {
  it('a new version rebuilds itself: the old model stays readable until the new one swaps in', async () => {
    const adapter = create();
    cleanups.push(() => adapter.cleanup());
    const store = await adapter.openStore();
    const n = name === 'SQLite' ? 2_000 : 400; // every apply is a server round trip on PostgreSQL
    const v1 = await startProjector({ store, projections: [cartTotals], pollIntervalMs: 5 });
    await v1.waitFor('cart_totals', await fill(store, n, 'c'), { timeoutMs: 30_000 });
    await v1.stop();

    // v2 doubles every total and adds a table.
    const v2def = projection({
      ...cartTotals,
      version: 2,
      tables: [...cartTotals.tables, 'cart_counts'],
      async setup(db, t) {
        await cartTotals.setup(db, t);
        await db.exec(`CREATE TABLE ${t.cart_counts} (cart_id TEXT PRIMARY KEY, n BIGINT NOT NULL)`);
      },
      async apply(e, db, t) {
        await cartTotals.apply(e, db, t);
        await cartTotals.apply({ ...e, id: `${e.id}#2` }, db, t);
        await db.run(`INSERT INTO ${t.cart_counts} (cart_id, n) VALUES (?, 1) ON CONFLICT (cart_id) DO UPDATE SET n = ${t.cart_counts}.n + 1`, [e.streamId]);
      },
    });
    const v2 = await startProjector({ store, projections: [v2def], pollIntervalMs: 5, batchSize: 100 });
    cleanups.push(() => v2.stop());
    // An old process (v1 code) started during the deploy stands by; it must never rebuild the model back.
    const old = await startProjector({ store, projections: [cartTotals], pollIntervalMs: 5, leaseMs: 200 });
    cleanups.push(() => old.stop());
    const oldErrors: unknown[] = [];
    old.events.on('worker-error', (e: { error: unknown }) => oldErrors.push(e.error));
    const swapped = new Promise((r) => v2.events.once('rebuild-swapped', r));
    const before = await totals(v2.db); // the v1 model, still served
    expect(before).toEqual(foldTotals(await store.readAll()));
    await swapped;
    const [s] = await projectionStatus(v2.db, store);
    expect(s!.version).toBe(2);
    const doubled = new Map([...foldTotals(await store.readAll())].map(([k, v]) => [k, { total: 2 * v.total, items: 2 * v.items }]));
    expect(await totals(v2.db)).toEqual(doubled);
    const counts = await v2.db.query<{ n: number }>('SELECT sum(n) AS n FROM cart_counts');
    expect(Number(counts[0]!.n)).toBe(n);
    await v2.stop();
    for (let i = 0; i < 200 && oldErrors.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(String(oldErrors[0])).toMatch(/older than the stored version 2/);
    const [after] = await projectionStatus(v2.db, store);
    expect(after!.version).toBe(2);
    expect(after!.rebuild).toBeNull();
    expect(await totals(v2.db)).toEqual(doubled);
  });
});
