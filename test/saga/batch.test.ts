import { describe, expect, it } from 'vitest';
import { FencingError, defineSaga, sagaStreamId, storeDatabase } from '../../src/index.js';
import { CommitBatcher } from '../../src/saga/batch.js';
import { PgTransitionBatch } from '../../src/saga/pg-apply.js';
import { lifecycleEvent } from '../../src/saga/events.js';
import type { Transition } from '../../src/saga/transition.js';
import { ADAPTERS, useSagaFixture } from './harness.js';

const noop = defineSaga({ name: 'noop', version: 1, steps: [{ name: 'a', action: async () => 1 }] });

describe.each(ADAPTERS)('group commit of saga transitions on $name', (adapter) => {
  const fx = useSagaFixture(adapter);

  it('a fenced-out piece fails alone; a piece that fails after writing leaves nothing while the rest commit', async () => {
    const db = storeDatabase(fx().store);
    await db.exec('CREATE TABLE batch_probe (k TEXT PRIMARY KEY)');
    const batcher = new CommitBatcher(fx().store, { pg: null, maxInFlight: 1, maxBatch: 64 });
    const put = (k: string) => async (tx: { sql: { run(sql: string, p: string[]): Promise<unknown> } }) => void (await tx.sql.run('INSERT INTO batch_probe (k) VALUES (?)', [k]));
    const outcomes = await Promise.allSettled([
      batcher.submit(put('a')),
      batcher.submit(async () => {
        throw new FencingError('saga:x', 1n);
      }),
      batcher.submit(async (tx) => {
        await put('c')(tx);
        throw new Error('boom after writing');
      }),
      batcher.submit(put('d')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(FencingError);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain('boom after writing');
    const rows = await db.query<{ k: string }>('SELECT k FROM batch_probe ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual(['a', 'd']);
  });

  it('transitions given as data: stale fences are refused per saga (with or without events), the others commit once', async () => {
    // The engine creates the tables (and on PostgreSQL the apply function); it runs nothing here.
    const engine = await fx().engine({ sagas: [noop], maxConcurrent: 0 });
    const store = fx().store;
    const db = storeDatabase(store);
    const pg = await PgTransitionBatch.open(store, db);
    // On PostgreSQL these run as one statement per batch (falling back piece by piece where a fence is stale).
    expect(pg !== null).toBe(adapter.name === 'postgres');
    const batcher = new CommitBatcher(store, { pg, maxInFlight: 1, maxBatch: 64 });
    const now = 1_000;
    const ev = (id: string, status: string) => lifecycleEvent({ sagaId: id, sagaName: 'noop', version: 1, status });
    const insert = (id: string): Transition => ({
      sagaId: id, fence: 1, now, events: ev(id, 'running'), start: { stepNo: 0, phase: 'do', name: 'a' },
      insert: { type: 'noop', version: 1, input: '{}', deadlineAt: null, leaseOwner: 'r1', leaseUntil: now + 60_000 },
    });
    const created = await Promise.all(['s1', 's2', 's3', 's4', 's1'].map((id) => batcher.apply(insert(id))));
    expect(created.map((r) => r.applied)).toEqual([true, true, true, true, false]);
    expect(created[0]!.started).toMatchObject({ stepNo: 0, phase: 'do', state: 'started', attempts: 1 });
    const complete = (id: string, fence: number, events: boolean): Transition => ({
      sagaId: id, fence, now: now + 1, events: events ? ev(id, 'completed') : [],
      changes: { status: 'completed', next_step: 1, release: true, wake_at: null, timer_at: null },
      finish: { stepNo: 0, phase: 'do', state: 'succeeded', output: '1', error: null, uncertain: false },
    });
    const outcomes = await Promise.allSettled([complete('s1', 1, true), complete('s2', 7, true), complete('s3', 1, false), complete('s4', 7, false)].map((t) => batcher.apply(t)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    for (const i of [1, 3]) expect((outcomes[i] as PromiseRejectedResult).reason).toBeInstanceOf(FencingError);
    const statuses = await Promise.all(['s1', 's2', 's3', 's4'].map(async (id) => (await engine.get(id))!));
    expect(statuses.map((s) => s.status)).toEqual(['completed', 'running', 'completed', 'running']);
    expect(statuses[0]!.steps).toEqual([{ name: 'a', phase: 'do', state: 'succeeded', attempts: 1 }]);
    expect(statuses[1]!.steps).toEqual([{ name: 'a', phase: 'do', state: 'started', attempts: 1 }]);
    const types = async (id: string) => (await store.readStream(sagaStreamId(id))).map((e) => e.type);
    expect(await types('s1')).toEqual(['SagaStarted', 'SagaCompleted']);
    expect(await types('s2')).toEqual(['SagaStarted']);
    expect(await types('s3')).toEqual(['SagaStarted']);
  });
});
