import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventStore, openSqliteEventStore } from '../../src/index.js';
import { fixture, killAllChildren, sleep, spawnTsx, waitForExit } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { readWriterLog, verifyStore } from './verify-log.js';

const SOAK = process.env.TESSERA_SOAK === '1';
const WRITERS = 4;
const STREAMS = 5;
const LANES = 2; // concurrent append loops per process, so groups commit with in-process conflicts too
const DURATION_MS = SOAK ? 60_000 : 5_000;

describe('SQLite event store: several processes appending to shared streams', () => {
  afterEach(async () => {
    await killAllChildren();
  });

  it(`${WRITERS} processes with exact expected versions lose nothing, double nothing, leave no gap`, async () => {
    const tmp = tempDir('tessera-mp-');
    let tail: EventStore | undefined;
    try {
      const dbPath = join(tmp.dir, 'events.db');
      // Create the schema once, so the children do not race on the first migration.
      tail = await openSqliteEventStore({ path: dbPath, busyTimeoutMs: 10_000 });
      // A live reader in this process tails the global log while the children write: it must see every
      // event once, in position order, none skipped (positions become visible in commit order).
      const seen: bigint[] = [];
      const subscription = tail.subscribeToAll({ handler: (e) => void seen.push(e.globalPosition), pollIntervalMs: 20, batchSize: 200 });
      const writers = Array.from({ length: WRITERS }, (_, i) => {
        const name = `w${i}`;
        const logPath = join(tmp.dir, `${name}.log`);
        const child = spawnTsx(fixture('sqlite-writer.ts'), [dbPath, logPath, name, String(DURATION_MS), String(STREAMS), String(LANES)], { name });
        return { name, logPath, child };
      });
      const exits = await Promise.all(writers.map((w) => waitForExit(w.child, DURATION_MS + 60_000)));
      exits.forEach((exit, i) => {
        expect(exit, `${writers[i]!.name} stderr:\n${writers[i]!.child.stderr()}`).toEqual({ code: 0, signal: null, timedOut: false });
      });

      const logs = writers.map((w) => readWriterLog(w.name, w.logPath));
      const { problems, totals, positions } = verifyStore(dbPath, logs);
      const perProcess = logs.map((l) => ({ writer: l.name, ...l.done }));
      const seenDuringRun = seen.length;
      for (let i = 0; i < 3_000 && seen.length < totals.storedEvents; i++) await sleep(10);
      await subscription.stop();
      await subscription.done;
      await tail.close();
      console.log('[sqlite-multiprocess]', JSON.stringify({ durationMs: DURATION_MS, ...totals, tailedLive: seenDuringRun, perProcess }));

      expect(problems).toEqual([]);
      for (const l of logs) {
        expect(l.done, `${l.name} finished its run`).toBeDefined();
        expect(l.acks.length).toBe(l.done!.acks);
        expect(l.acks.length, `${l.name} acknowledged something`).toBeGreaterThan(0);
      }
      // Every writer finished cleanly, so every append it tried was acknowledged.
      expect(totals.unacknowledgedButStored + totals.unacknowledgedAndAbsent).toBe(0);
      expect(totals.storedEvents).toBe(totals.acknowledgedEvents);
      expect(seen).toEqual(positions);
      expect(subscription.position).toBe(seen[seen.length - 1]);

      // The store's own read paths agree with the raw table.
      const store = await openSqliteEventStore({ path: dbPath });
      try {
        const all = await store.readAll();
        expect(all.length).toBe(totals.storedEvents);
        for (const [stream, n] of Object.entries(totals.streams)) {
          const events = await store.readStream(stream);
          expect(events.map((e) => Number(e.streamVersion))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        }
      } finally {
        await store.close();
      }
    } finally {
      await killAllChildren();
      await tail?.close(); // idempotent; stops the subscription too
      tmp.remove();
    }
  }, (SOAK ? 60_000 : 5_000) + 120_000);
});
