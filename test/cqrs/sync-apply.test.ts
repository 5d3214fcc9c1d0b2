import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { projection, projectionStatus, startProjector } from '../../src/index.js';
import { ADAPTERS } from './fixtures/adapters.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// An apply that is not an async function: it returns the driver's promise for one type, nothing for
// another, throws synchronously for a third and returns a failing statement's promise for a fourth. The
// projector awaits only what is a promise, and a rejected one fails the event like a throw.
const seen = projection({
  name: 'sync_seen',
  version: 1,
  tables: ['sync_seen'],
  setup: (db, t) => db.exec(`CREATE TABLE ${t.sync_seen} (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL)`),
  apply: (e, db, t) => {
    if (e.type === 'Poison') throw new Error(`poison ${e.id}`);
    if (e.type === 'BadStatement') return db.run(`INSERT INTO ${t.sync_seen}_missing (event_id) VALUES (?)`, [e.id]).then(() => undefined);
    if (e.type !== 'Seen') return undefined;
    return db.run(`INSERT INTO ${t.sync_seen} (event_id, n) VALUES (?, 1) ON CONFLICT (event_id) DO UPDATE SET n = ${t.sync_seen}.n + 1`, [e.id]).then(() => undefined);
  },
});

type Kind = 'Seen' | 'Ignored';

for (const { name, create } of ADAPTERS) describe(`async projection with a synchronous apply (${name})`, () => {
  it('applies every promise-returning event once, skips the rest, and parks on a synchronous throw or a rejected promise after the good events of its batch', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Kind>('Seen', 'Ignored'), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 25 }), fc.constantFrom('Poison', 'BadStatement'), async (kinds, batchSize, poisonType) => {
        const adapter = create();
        cleanups.push(() => adapter.cleanup());
        const store = await adapter.openStore();
        const projector = await startProjector({ store, projections: [seen], pollIntervalMs: 5, batchSize, retry: { maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 10 } });
        cleanups.push(() => projector.stop());
        const failed = new Promise<{ eventId: string }>((resolve) => projector.events.once('failed', resolve));

        // The good events and the poison in one append: the poison lands in the same batch as some of them.
        const r = await store.appendToStream('s', [...kinds.map((type) => ({ type, data: {} })), { type: poisonType, data: {} }]);
        const written = await store.readAll();
        const poison = written.at(-1)!;
        expect((await failed).eventId).toBe(poison.id);

        const [status] = await projectionStatus(projector.db, store);
        expect(status).toMatchObject({ state: 'failed', failed: { eventId: poison.id, position: r.lastGlobalPosition } });
        expect(status!.position).toBe(written.at(-2)!.globalPosition);
        const rows = await projector.db.query<{ event_id: string; n: number }>('SELECT event_id, n FROM sync_seen ORDER BY event_id');
        const expected = written.filter((e) => e.type === 'Seen').map((e) => e.id).sort();
        expect(rows.map((row) => row.event_id)).toEqual(expected);
        expect(rows.every((row) => Number(row.n) === 1)).toBe(true);

        for (const c of cleanups.splice(0).reverse()) await c();
      }),
      { numRuns: name === 'SQLite' ? 6 : 3 },
    );
  });
});
