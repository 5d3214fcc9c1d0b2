import { afterEach, describe, expect, it } from 'vitest';
import { FencingError, InvalidArgumentError, LeaseTable, openSqlite, projectionRef, storeDatabase, waitFor } from '../../src/index.js';
import { added } from './fixtures/cart.js';
import { ProjectorChild, sharedStore } from './fixtures/child.js';
import { foldTotals, totals } from './fixtures/projections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('LeaseTable (SQLite)', () => {
  it('acquire, renew, release and fencing: a taken-over lease cannot write', async () => {
    let now = 1_000;
    const db = openSqlite();
    cleanups.push(() => db.close());
    const leases = new LeaseTable(db, { clock: { now: () => now } });
    await leases.ensureSchema();
    await db.exec('CREATE TABLE work (v TEXT)');
    const a = await leases.acquire('job', 'A', 100);
    expect(a?.fence).toBe(1n);
    expect(await leases.acquire('job', 'B', 100)).toBeNull(); // held
    now += 50;
    await leases.renew(a!, 100); // now expires at 1150
    now += 80;
    expect(await leases.acquire('job', 'B', 100)).toBeNull();
    now += 100; // expired
    const b = await leases.acquire('job', 'B', 100);
    expect(b?.fence).toBe(2n);
    // A's write, guarded, is refused and rolled back.
    const refused = await db
      .transaction(async (tx) => {
        await tx.run("INSERT INTO work VALUES ('from A')");
        await leases.guard(tx, a!);
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencingError);
    expect((refused as FencingError).code).toBe('LEASE_FENCED');
    await expect(leases.renew(a!, 100)).rejects.toBeInstanceOf(FencingError);
    await db.transaction(async (tx) => {
      await leases.guard(tx, b!);
      await tx.run("INSERT INTO work VALUES ('from B')");
    });
    expect(await db.query('SELECT v FROM work')).toEqual([{ v: 'from B' }]);
    await leases.release(a!); // no-op: not A's any more
    expect((await leases.get('job'))?.owner).toBe('B');
    await leases.release(b!);
    const c = await leases.acquire('job', 'C', 100);
    expect(c?.fence).toBe(3n);
    expect(await leases.get('nope')).toBeNull();
    await expect(leases.acquire('', 'A', 100)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(leases.acquire('x', 'A', 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => new LeaseTable(db, { table: 'bad name' })).toThrow(InvalidArgumentError);
  });
});

for (const engine of ['SQLite', 'PostgreSQL'] as const) describe(`projector lease takeover (${engine}, two processes)`, () => {
  it('a SIGSTOPped projector loses its lease; resumed, its writes are fenced and none lands', { timeout: 90_000 }, async () => {
    const shared = await sharedStore(engine);
    cleanups.push(() => shared.cleanup());
    const { store } = shared;
    const db = storeDatabase(store);
    for (let i = 0; i < 60; i++) await store.appendToStream(`cart-${i % 9}`, Array.from({ length: 50 }, (_, j) => added(`S${j}`, 1, 1 + (j % 5))));

    const a = new ProjectorChild({ ...shared.env, TESSERA_OWNER: 'A', LEASE_MS: '500', BATCH: '100', POLL_MS: '10', STOP_AFTER_BATCHES: '5' });
    cleanups.push(() => a.kill());
    const acquiredA = await a.next((l) => l.ev === 'acquired');
    const stopped = await a.next((l) => l.ev === 'stopping');
    const stoppedAt = BigInt(stopped.position as string);
    await new Promise((r) => setTimeout(r, 700)); // past A's lease

    // B's longer lease keeps a slow machine from letting it expire too, so A stays fenced out.
    const b = new ProjectorChild({ ...shared.env, TESSERA_OWNER: 'B', LEASE_MS: '5000', BATCH: '100', POLL_MS: '10' });
    cleanups.push(() => b.kill());
    const acquiredB = await b.next((l) => l.ev === 'acquired');
    expect(BigInt(acquiredB.fence as string)).toBe(BigInt(acquiredA.fence as string) + 1n);
    let last = (await store.readAll()).at(-1)!.globalPosition;
    await waitFor(projectionRef(db, 'cart_totals'), last, { timeoutMs: 30_000 });
    // New events for the resumed process to try, then wake it up.
    last = (await store.appendToStream('cart-x', Array.from({ length: 300 }, () => added('Z', 1, 1))))!.lastGlobalPosition;
    a.proc.kill('SIGCONT');
    const fenced = await a.next((l) => l.ev === 'fenced');
    expect(fenced.code).toBe('LEASE_FENCED');
    await waitFor(projectionRef(db, 'cart_totals'), last, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 200)); // give A every chance to (wrongly) write

    const byA = await db.query<{ mx: number; c: number }>("SELECT max(position) AS mx, count(*) AS c FROM cart_applied WHERE by_owner = 'A'");
    expect(BigInt(byA[0]!.mx as number | bigint)).toBe(stoppedAt); // nothing A did after resuming landed
    expect(Number(byA[0]!.c)).toBe(500);
    expect(a.lines.filter((l) => l.ev === 'batch').length).toBe(5);
    expect(a.lines.filter((l) => l.ev === 'acquired').length).toBe(1); // A stays in standby
    const counts = await db.query<{ c: number; mx: number }>('SELECT count(*) AS c, max(n) AS mx FROM cart_applied');
    expect(Number(counts[0]!.c)).toBe(3_300);
    expect(Number(counts[0]!.mx)).toBe(1);
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));
    const lease = await new LeaseTable(db).get('projection:cart_totals');
    expect(lease?.owner).toBe('B');
  });
});
