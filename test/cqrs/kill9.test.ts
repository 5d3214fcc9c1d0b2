import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventStore, openSqliteEventStore, projectionRef, storeDatabase, waitFor } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { added } from './fixtures/cart.js';
import { ProjectorChild } from './fixtures/child.js';
import { foldTotals, totals } from './fixtures/projections.js';

const SOAK = process.env.TESSERA_SOAK === '1';
const KILLS = SOAK ? 300 : 50;
const EVENTS = SOAK ? 100_000 : 20_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function appendMany(store: EventStore, n: number, seed: number): Promise<bigint> {
  let last = 0n;
  for (let i = 0; i < n; i += 50) {
    const events = Array.from({ length: Math.min(50, n - i) }, (_, j) => added(`S${j % 7}`, 1 + ((seed + j) % 4), 1 + ((i + j) % 9)));
    last = (await store.appendToStream(`cart-${(seed * 31 + i) % 211}`, events)).lastGlobalPosition;
  }
  return last;
}

describe('async projector under kill -9 (SQLite)', () => {
  it(`${KILLS} kill -9s of the projector process: every event applied exactly once, model equals the fold`, { timeout: SOAK ? 900_000 : 120_000 }, async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'events.db');
    const store = await openSqliteEventStore({ path });
    cleanups.push(() => store.close());
    const db = storeDatabase(store);
    const perLife = Math.floor(EVENTS / (KILLS + 1));
    let appended = 0;
    let kills = 0;
    let killedBehind = 0;
    let last = 0n;
    // Standby processes start while the current one works, as in production: after a kill one of them takes
    // the lease over as soon as it expires, so the test waits for lease expiry rather than process start-up.
    const spawnChild = (): ProjectorChild => {
      const c = new ProjectorChild({ TESSERA_DB: path, LEASE_MS: '250', POLL_MS: '5', BATCH: String(10 + Math.floor(Math.random() * 190)) });
      cleanups.push(() => c.kill());
      return c;
    };
    const alive = [spawnChild(), spawnChild()];
    for (let k = 0; k < KILLS; k++) {
      last = await appendMany(store, perLife, k);
      appended += perLife;
      const holder = await Promise.race(alive.map((c) => c.next((l) => l.ev === 'acquired', 60_000).then(() => c)));
      alive.splice(alive.indexOf(holder), 1);
      alive.push(spawnChild());
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 80)));
      const caughtUp = holder.lines.some((l) => l.ev === 'caught-up' && BigInt(l.position as string) >= last);
      await holder.kill('SIGKILL');
      kills++;
      if (!caughtUp) killedBehind++;
    }
    for (const c of alive) await c.kill('SIGKILL');
    last = await appendMany(store, EVENTS - appended, KILLS);
    const [row] = await db.query<{ position: number }>("SELECT position FROM tessera_projections WHERE name = 'cart_totals'");
    const remaining = Number(last) - Number(row?.position ?? 0);
    const final = new ProjectorChild({ TESSERA_DB: path, LEASE_MS: '250', POLL_MS: '5', BATCH: '500' });
    cleanups.push(() => final.kill('SIGTERM'));
    await waitFor(projectionRef(db, 'cart_totals'), last, { timeoutMs: 60_000, pollIntervalMs: 20 });
    const caught = await final.next((l) => l.ev === 'caught-up' && BigInt(l.position as string) >= last);

    const log = await store.readAll();
    expect(log.length).toBe(EVENTS);
    expect(await totals(db)).toEqual(foldTotals(log));
    const counts = await db.query<{ c: number; s: number; mx: number }>('SELECT count(*) AS c, sum(n) AS s, max(n) AS mx FROM cart_applied');
    expect(Number(counts[0]!.c)).toBe(EVENTS);
    expect(Number(counts[0]!.s)).toBe(EVENTS);
    expect(Number(counts[0]!.mx)).toBe(1);
    expect(kills).toBe(KILLS);
    console.log(
      `kill -9 projector: ${kills} kills (${killedBehind} while behind the log), ${EVENTS} events applied exactly once; ` +
        `final catch-up of ${remaining} events at ${String(caught.rate)} events/s`,
    );
  });
});
