import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventStore, FencingError, openSqliteEventStore, type RecordedEvent, sagaStreamId, storeDatabase } from '../../src/index.js';
import { syncStoreWriter } from '../../src/eventstore/store.js';
import { CommitBatcher } from '../../src/saga/batch.js';
import { lifecycleEvent } from '../../src/saga/events.js';
import { migrateSagaTables } from '../../src/saga/migrate.js';
import type { Transition } from '../../src/saga/transition.js';
import type { SqliteDatabase } from '../../src/storage/sqlite.js';
import { tempDir } from '../support/tmp.js';

// The synchronous SQLite path of a lone saga transition with lifecycle events: its SQL and the append commit in
// one BEGIN IMMEDIATE … COMMIT, through the store's synchronous writer.
describe('synchronous SQLite transitions with lifecycle events', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: EventStore;
  let db: SqliteDatabase;
  let asyncTransactions = 0;
  beforeEach(async () => {
    tmp = tempDir('tessera-saga-sync-');
    store = await openSqliteEventStore({ path: join(tmp.dir, 's.db') });
    db = storeDatabase(store) as SqliteDatabase;
    await migrateSagaTables(db);
    asyncTransactions = 0;
    const transaction = db.transaction.bind(db);
    db.transaction = (fn) => (asyncTransactions++, transaction(fn));
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  const now = 1_000;
  const ev = (id: string, status: string) => lifecycleEvent({ sagaId: id, sagaName: 'noop', version: 1, status });
  const insert = (id: string): Transition => ({
    sagaId: id, fence: 1, now, events: ev(id, 'running'), start: { stepNo: 0, phase: 'do', name: 'a' },
    insert: { type: 'noop', version: 1, input: '{}', deadlineAt: null, leaseOwner: 'r1', leaseUntil: now + 60_000 },
  });
  const complete = (id: string, fence: number): Transition => ({
    sagaId: id, fence, now: now + 1, events: ev(id, 'completed'),
    changes: { status: 'completed', next_step: 1, release: true, wake_at: null, timer_at: null },
    finish: { stepNo: 0, phase: 'do', state: 'succeeded', output: '1', error: null, uncertain: false },
  });
  const types = async (id: string) => (await store.readStream(sagaStreamId(id))).map((e) => e.type);
  const status = async (id: string) => (await db.query<{ status: string }>('SELECT status FROM tessera_saga_instances WHERE saga_id = ?', [id]))[0]?.status;

  it('commits the status change and its event together without an async transaction, and wakes subscribers', async () => {
    const batcher = new CommitBatcher(store, { pg: null, maxInFlight: 1, maxBatch: 64, lone: () => true });
    const seen: RecordedEvent[] = [];
    let heard!: () => void;
    const got = new Promise<void>((r) => (heard = r));
    // A poll interval far beyond the test's timeout: only the commit's wake-up can deliver the event in time.
    const sub = store.subscribeToAll({ fromPosition: 0n, pollIntervalMs: 600_000, handler: async (e) => void (seen.push(e), heard()) });
    await new Promise((r) => setTimeout(r, 50));
    expect((await batcher.apply(insert('s1'))).applied).toBe(true);
    await got;
    await sub.stop();
    expect(seen.map((e) => e.type)).toEqual(['SagaStarted']);
    await batcher.apply(complete('s1', 1));
    expect(await types('s1')).toEqual(['SagaStarted', 'SagaCompleted']);
    expect(await status('s1')).toBe('completed');
    expect(asyncTransactions).toBe(0);
  });

  it('a fenced-out transition appends nothing; a failed append leaves nothing of itself', async () => {
    const batcher = new CommitBatcher(store, { pg: null, maxInFlight: 1, maxBatch: 64, lone: () => true });
    await batcher.apply(insert('s2'));
    await expect(batcher.apply(complete('s2', 7))).rejects.toBeInstanceOf(FencingError);
    expect(await types('s2')).toEqual(['SagaStarted']);
    expect(await status('s2')).toBe('running');
    expect(asyncTransactions).toBe(0);
    const w = syncStoreWriter(store)!;
    const outcome = w.write(() => {
      w.append('other', [{ type: 'A', data: {} }]);
      expect(() => w.append('other', [{ type: 'B', data: {} }], { expectedVersion: 5n })).toThrow();
      return w.append('other', [{ type: 'C', data: {} }]);
    });
    expect(outcome.nextExpectedVersion).toBe(2n);
    expect((await store.readStream('other')).map((e) => e.type)).toEqual(['A', 'C']);
    expect(() => w.append('other', [{ type: 'D', data: {} }])).toThrow(/outside its write/);
  });

  it('no synchronous writer with inline projections (their hooks are async)', async () => {
    const hooked = await openSqliteEventStore({ path: join(tmp.dir, 'h.db'), appendHooks: [{ name: 'h', apply: async () => undefined }] });
    expect(syncStoreWriter(hooked)).toBeNull();
    expect(syncStoreWriter(store)).not.toBeNull();
    await hooked.close();
  });
});
