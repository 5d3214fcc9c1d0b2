import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventStore, runMigrations, type SqlDriver, storeDatabase } from '../../src/index.js';
import { claimRunnable, fencedUpdate, renewLease } from '../../src/saga/repo.js';
import { decodeInstance } from '../../src/saga/rows.js';
import { SAGA_MIGRATIONS, SAGA_MIGRATIONS_TABLE, T_INSTANCES } from '../../src/saga/schema.js';
import { ADAPTERS, type SagaDb } from './harness.js';

/**
 * A model of the claim / lease / fence protocol, checked against the real SQL on the real tables with a
 * simulated clock: random interleavings of three runners claiming, renewing, writing and releasing, with time
 * jumps past leases. The model says which calls must succeed; the database must agree, call by call.
 */
type Op =
  | { kind: 'claim' | 'write' | 'renew' | 'release'; runner: number }
  | { kind: 'advance'; ms: number };

const LEASE = 100;
const RUNNERS = 3;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('claim' as const, 'write' as const, 'renew' as const, 'release' as const), runner: fc.integer({ min: 0, max: RUNNERS - 1 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 250 }) }),
);

interface Model {
  fence: number;
  owner: number | null;
  leaseUntil: number | null;
  nextStep: number;
  lastClaimer: number | null;
}

describe.each(ADAPTERS)('claim/lease/fence model on $name', (adapter) => {
  let sagaDb: SagaDb;
  let store: EventStore;
  let db: SqlDriver;
  beforeAll(async () => {
    sagaDb = adapter.make();
    store = await sagaDb.open();
    db = storeDatabase(store);
    await runMigrations(db, SAGA_MIGRATIONS_TABLE, SAGA_MIGRATIONS);
  });
  afterAll(() => sagaDb.cleanup());

  it('claims never exceed their limit, and concurrent claimers never take the same saga', async () => {
    const filter = new Map([['model', [1]]]);
    await db.run(`DELETE FROM ${T_INSTANCES}`);
    for (let i = 0; i < 40; i++) {
      await db.run(`INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, created_at, updated_at) VALUES (?, 'model', 1, 'running', 'null', ?, ?)`, [`c${i}`, i, i]);
    }
    const other = await sagaDb.another(store);
    const dbs = [db, storeDatabase(other), db];
    const batches = await Promise.all(
      [0, 1, 2].map(async (k) => {
        const got: string[][] = [];
        for (let round = 0; round < 8; round++) {
          const d = dbs[k]!;
          const rows = await d.transaction((tx) => claimRunnable(tx, d.dialect, { runnerId: `r${k}`, now: 1_000, leaseMs: LEASE, limit: 3, filter }));
          got.push(rows.map((r) => r.sagaId));
        }
        return got;
      }),
    );
    const all = batches.flat();
    expect(all.every((b) => b.length <= 3)).toBe(true);
    const ids = all.flat();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(40);
  });

  it('only the latest claimer can write; an expired lease is claimable; fences only grow', async () => {
    const filter = new Map([['model', [1]]]);
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        await db.run(`DELETE FROM ${T_INSTANCES}`);
        let now = 1_000_000;
        await db.run(`INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, created_at, updated_at) VALUES ('m', 'model', 1, 'running', 'null', ?, ?)`, [now, now]);
        const m: Model = { fence: 0, owner: null, leaseUntil: null, nextStep: 0, lastClaimer: null };
        const belief: Array<number | null> = Array.from({ length: RUNNERS }, () => null);
        for (const op of ops) {
          if (op.kind === 'advance') {
            now += op.ms;
            continue;
          }
          const r = op.runner;
          if (op.kind === 'claim') {
            const claimable = m.leaseUntil === null || m.leaseUntil <= now;
            const rows = await db.transaction((tx) => claimRunnable(tx, db.dialect, { runnerId: `r${r}`, now, leaseMs: LEASE, limit: 1, filter }));
            expect(rows.length).toBe(claimable ? 1 : 0);
            if (claimable) {
              m.fence++;
              m.owner = r;
              m.leaseUntil = now + LEASE;
              m.lastClaimer = r;
              belief[r] = m.fence;
              expect(rows[0]!.fence).toBe(m.fence);
            }
            continue;
          }
          const f = belief[r];
          if (f === null || f === undefined) continue;
          const mayWrite = f === m.fence;
          const changes = op.kind === 'write' ? { next_step: m.nextStep + 1 } : { release: true };
          const outcome = await db
            .transaction((tx) => (op.kind === 'renew' ? renewLease(tx, 'm', f, now, now + LEASE) : fencedUpdate(tx, 'm', f, now, changes)))
            .then((r) => (r === 'released' ? ('released' as const) : ('ok' as const)), (e: { code?: string }) => e.code);
          // A renewal after the holder released the saga must not lease it again.
          const released = op.kind === 'renew' && mayWrite && m.owner === null;
          expect(outcome).toBe(mayWrite ? (released ? 'released' : 'ok') : 'LEASE_FENCED');
          if (mayWrite && !released) {
            expect(r).toBe(m.lastClaimer); // a write that lands always comes from the latest claimer
            if (op.kind === 'write') m.nextStep++;
            if (op.kind === 'renew') m.leaseUntil = now + LEASE;
            if (op.kind === 'release') {
              m.owner = null;
              m.leaseUntil = null;
            }
          }
          const row = decodeInstance((await db.query(`SELECT * FROM ${T_INSTANCES} WHERE saga_id = 'm'`))[0]!);
          expect({ fence: row.fence, owner: row.leaseOwner, leaseUntil: row.leaseUntil, nextStep: row.nextStep }).toEqual({
            fence: m.fence,
            owner: m.owner === null ? null : `r${m.owner}`,
            leaseUntil: m.leaseUntil,
            nextStep: m.nextStep,
          });
        }
      }),
      { numRuns: adapter.name === 'sqlite' ? 150 : 40 },
    );
  });
});
