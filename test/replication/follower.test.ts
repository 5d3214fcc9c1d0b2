import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FollowerCheckpointConflictError, InvalidArgumentError } from '../../src/errors.js';
import { openPostgresEventStore } from '../../src/eventstore/postgres/open.js';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/open.js';
import { storeDatabase } from '../../src/eventstore/store.js';
import type { EventStore, RecordedEvent } from '../../src/eventstore/types.js';
import { openLogShippingFollower, sourceAppends } from '../../src/replication/follower.js';
import { readCheckpoint } from '../../src/replication/follower-target.js';
import { canonicalJson, verifyReplica } from '../../src/replication/verify.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { killAllChildren, spawnTsx, sleep } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'follower-child.ts');
const EVENTS = 50_000;
const PER_APPEND = 20;
const STREAMS = 300;

/** Fills `store` with EVENTS events: appends of PER_APPEND events to STREAMS interleaved streams, 8 at a time. */
async function fill(store: EventStore): Promise<void> {
  const appends = EVENTS / PER_APPEND;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < appends; i = next++) {
      const stream = `acct-${i % STREAMS}`;
      const events = Array.from({ length: PER_APPEND }, (_, k) => ({
        type: k % 3 === 0 ? 'Deposited' : 'Withdrawn',
        data: { amount: i * PER_APPEND + k, note: { z: 'last', a: 'first' } },
        ...(k % 5 === 0 ? { metadata: { user: `u${k}` } } : {}),
      }));
      await store.appendToStream(stream, events);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Events and checkpoint as a killed follower left the SQLite file. */
async function copyState(path: string): Promise<{ events: bigint; checkpoint: bigint }> {
  const copy = await openSqliteEventStore({ path });
  try {
    const db = storeDatabase(copy);
    await db.exec('CREATE TABLE IF NOT EXISTS tessera_follower_checkpoints (name TEXT PRIMARY KEY, source_position BIGINT NOT NULL, copied BIGINT NOT NULL, updated_at BIGINT NOT NULL)');
    const [row] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM tessera_events');
    return { events: BigInt(row!.n), checkpoint: (await readCheckpoint(db, 'default')).copied };
  } finally {
    await copy.close();
  }
}

describe('log-shipping follower: PostgreSQL → SQLite', () => {
  const schema = freshSchemaName('follow');
  const tmp = tempDir('tessera-follow-');
  let source: EventStore;

  beforeAll(async () => {
    source = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    await fill(source);
  }, 120_000);

  afterAll(async () => {
    await killAllChildren();
    await source?.close();
    await dropSchemas([schema]);
    tmp.remove();
  });

  it('ships 50,000 events through repeated kill -9, then verify reports identical logs and names a corrupted event', async () => {
    const path = join(tmp.dir, 'edge.db');
    let previous = 0n;
    for (let kill = 0; kill < 4; kill++) {
      const child = spawnTsx(CHILD, [TEST_PG_URL, schema, path, '500'], { name: `follower-${kill}` });
      // Let it copy at least one more batch, then a random bit longer, and kill it mid-work.
      await child.waitForLine((l) => l.startsWith('copied ') && BigInt(l.split(' ')[1]!) > previous, 60_000);
      await sleep(Math.floor(Math.random() * 150));
      await child.kill9();
      const state = await copyState(path);
      // Checkpoint and events commit together: the copy holds exactly what the checkpoint says, never more or less.
      expect(state.events).toBe(state.checkpoint);
      expect(state.checkpoint).toBeGreaterThan(previous);
      previous = state.checkpoint;
    }
    expect(previous).toBeLessThan(BigInt(EVENTS));

    const follower = await openLogShippingFollower({ source, target: { path } });
    try {
      const { checkpoint } = await follower.catchUp();
      expect(checkpoint.copied).toBe(BigInt(EVENTS));
      const report = await verifyReplica(source, follower.target);
      expect(report).toMatchObject({ identical: true, sourceEvents: EVENTS, replicaEvents: EVENTS, streams: STREAMS, divergenceCount: 0 });
      expect(report.replicaDigest).toBe(report.sourceDigest);

      // Corrupt one event of the copy behind the store's back: verify names exactly that event and field.
      const [victim] = await follower.target.readStream('acct-17', { fromVersion: 7n, maxCount: 1 });
      await storeDatabase(follower.target).run('UPDATE tessera_events SET data = ? WHERE event_id = ?', [JSON.stringify({ amount: -1 }), victim!.id]);
      const broken = await verifyReplica(source, follower.target);
      expect(broken.identical).toBe(false);
      expect(broken.divergenceCount).toBe(1);
      expect(broken.divergences[0]).toMatchObject({ kind: 'mismatch', eventId: victim!.id, streamId: 'acct-17', streamVersion: 7n, fields: ['data'] });
      expect(broken.replicaDigest).not.toBe(broken.sourceDigest);
    } finally {
      await follower.close();
    }
  }, 240_000);

  it('keeps following: events appended after a catch-up arrive through start()', async () => {
    const follower = await openLogShippingFollower({ source, target: { path: join(tmp.dir, 'live.db') }, batchSize: 5_000, pollIntervalMs: 20 });
    try {
      await follower.catchUp();
      const { done } = follower.start();
      const { lastGlobalPosition } = await source.appendToStream('late-stream', [{ type: 'Late', data: { n: 1 } }]);
      for (let i = 0; i < 500 && (await follower.checkpoint()).sourcePosition < lastGlobalPosition; i++) await sleep(20);
      const [copied] = await follower.target.readStream('late-stream');
      expect(copied).toMatchObject({ type: 'Late', data: { n: 1 }, streamVersion: 1n });
      await follower.stop();
      await done;
      const report = await verifyReplica(source, follower.target, { untilSourcePosition: lastGlobalPosition });
      expect(report.identical).toBe(true);
    } finally {
      await follower.close();
    }
  }, 120_000);
});

describe('log-shipping follower: SQLite → SQLite, checkpoint fence and input checks', () => {
  it('a second follower that moved the checkpoint makes the first one fail its batch with a typed error, leaving no partial batch', async () => {
    const tmp = tempDir('tessera-follow2-');
    const source = await openSqliteEventStore({ path: join(tmp.dir, 'src.db') });
    const a = await openLogShippingFollower({ source, target: { path: join(tmp.dir, 'dst.db') }, batchSize: 2 });
    try {
      await source.appendToStream('s', [{ type: 'A', data: 1 }, { type: 'B', data: 2 }, { type: 'C', data: 3 }, { type: 'D', data: 4 }]);
      await a.catchUp({ maxEvents: 2 });
      // Another follower under the same name moves the checkpoint: the first one's next batch must not apply.
      await storeDatabase(a.target).run('UPDATE tessera_follower_checkpoints SET copied = copied + 100');
      await expect(a.catchUp()).rejects.toBeInstanceOf(FollowerCheckpointConflictError);
      expect((await a.target.readAll()).map((e) => e.type)).toEqual(['A', 'B']);
    } finally {
      await a.close();
      await source.close();
      tmp.remove();
    }
  });

  it('rejects bad options before writing anything', async () => {
    const source = await openSqliteEventStore();
    try {
      await expect(openLogShippingFollower({ source, target: {} as never })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(openLogShippingFollower({ source: {} as never, target: { path: '/tmp/x.db' } })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(openLogShippingFollower({ source, target: { path: '/tmp/x.db' }, batchSize: 20_000 })).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await source.close();
    }
  });

  it('splits a page into source appends: concatenated runs are the page, each run one stream with consecutive versions and one time', () => {
    const ev = fc.record({ stream: fc.constantFrom('a', 'b', 'c'), t: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 40 }), (specs) => {
        const versions = new Map<string, bigint>();
        const page = specs.map((s, i) => {
          const v = (versions.get(s.stream) ?? 0n) + 1n;
          versions.set(s.stream, v);
          return { id: `e${i}`, streamId: s.stream, streamVersion: v, globalPosition: BigInt(i + 1), recordedAt: new Date(s.t), type: 'T', data: i, schemaVersion: 1 } as RecordedEvent;
        });
        const runs = sourceAppends(page);
        expect(runs.flat()).toEqual(page);
        for (const run of runs) {
          for (let k = 1; k < run.length; k++) {
            expect(run[k]!.streamId).toBe(run[0]!.streamId);
            expect(run[k]!.streamVersion).toBe(run[k - 1]!.streamVersion + 1n);
            expect(run[k]!.recordedAt.getTime()).toBe(run[0]!.recordedAt.getTime());
          }
        }
      }),
    );
  });

  it('canonical JSON ignores key order at every level', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });
});
