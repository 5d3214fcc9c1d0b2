import { afterAll, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/eventstore/backend.js';
import { appendInTransaction } from '../../src/eventstore/postgres/append.js';
import { statements } from '../../src/eventstore/postgres/schema.js';
import { type EventStore, openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { openPostgres, type PostgresDatabase } from '../../src/storage/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

function request(streamId: string, id: string): AppendRequest {
  const data = JSON.stringify({ id });
  return {
    streamId,
    events: [{ id, idGiven: true, type: 'Held', data, metadata: null, schemaVersion: 1, bytes: data.length }],
    expectedVersion: 'any',
    recordedAt: Date.now(),
  };
}

/** Opens a transaction that appends through the store's own append path and stays open until released. */
function heldAppend(db: PostgresDatabase, schema: string, req: AppendRequest, outcome: Promise<'commit' | 'abort'>) {
  let inserted!: () => void;
  const started = new Promise<void>((r) => (inserted = r));
  const done = db.transaction(async (tx) => {
    const applied = await appendInTransaction(tx, statements(schema), req, [], schema);
    inserted();
    if ((await outcome) === 'abort') throw new Error('aborted on purpose');
    return applied.result;
  });
  done.catch(() => undefined);
  return { started, done };
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['commit', 'abort'] as const)('gap-safe global log: an older transaction that %ss late', (ending) => {
  it('hides a later commit from readAll and subscribers until the older transaction ends, then shows the log in order', async () => {
    const schema = freshSchemaName('gap');
    schemas.push(schema);
    let store: EventStore | undefined;
    const db = openPostgres({ connectionString: TEST_PG_URL });
    let release: (how: 'commit' | 'abort') => void = () => undefined;
    try {
      store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, readWaitMs: 200 });
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ pollIntervalMs: 20, handler: (e) => void seen.push(e) });
      const tx1 = heldAppend(db, schema, request('held', 'tx1-event'), new Promise((r) => (release = r)));
      await tx1.started;

      // tx2 (a later transaction, another stream) is not blocked by tx1 and commits first.
      const tx2 = await store.appendToStream('free', [{ id: 'tx2-event', type: 'Free', data: {} }]);
      // An append to tx1's stream waits for tx1's row lock.
      let sameStreamDone = false;
      const sameStream = store.appendToStream('held', [{ id: 'tx3-event', type: 'Held', data: {} }]).finally(() => (sameStreamDone = true));

      expect(await store.readAll()).toEqual([]);
      for await (const e of store.streamAll()) expect.fail(`streamAll yielded ${e.id} above the horizon`);
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.readAll()).toEqual([]);
      expect(seen).toEqual([]);
      expect(sameStreamDone).toBe(false);

      release(ending);
      const r1 = await tx1.done.then((r) => r, () => null);
      expect(r1 === null).toBe(ending === 'abort');
      const r3 = await sameStream;
      expect(r3.nextExpectedVersion).toBe(ending === 'commit' ? 2n : 1n);

      const expectedIds = ending === 'commit' ? ['tx1-event', 'tx2-event', 'tx3-event'] : ['tx2-event', 'tx3-event'];
      await until(async () => (await store!.readAll()).length === expectedIds.length);
      const all = await store.readAll();
      expect(all.map((e) => e.id)).toEqual(expectedIds);
      if (r1) expect(r1.lastGlobalPosition).toBeLessThan(tx2.lastGlobalPosition);
      await until(() => seen.length === expectedIds.length);
      await sub.stop();
      expect(seen).toEqual(all);
    } finally {
      release('abort'); // a failed assertion must not leave tx1 open (close would wait for it)
      await store?.close();
      await db.close();
    }
  });
});
