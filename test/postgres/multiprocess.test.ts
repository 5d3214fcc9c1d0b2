import { afterAll, describe, expect, it } from 'vitest';
import { type EventStore, openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { checkFinalLog, collectReports, killAllWriters, spawnWriter } from './log-check.js';

const schemas: string[] = [];
afterAll(async () => {
  killAllWriters();
  await dropSchemas(schemas);
});

const WRITERS = 8;
const DURATION_MS = Number(process.env.TESSERA_SOAK) === 1 ? 30_000 : 3_000;

describe('PostgreSQL event store, several processes', () => {
  it(`${WRITERS} writer processes and a tailing subscriber on shared streams: nothing lost, nothing twice, the tail is a prefix of the log`, async () => {
    const schema = freshSchemaName('mp');
    schemas.push(schema);
    let store: EventStore | undefined;
    try {
      store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
      const seen: RecordedEvent[] = [];
      const prefixChecks: number[] = [];
      const sub = store.subscribeToAll({ pollIntervalMs: 50, handler: (e) => void seen.push(e) });
      // Writers open the schema concurrently too (creation and migrations are race-safe).
      const writers = Array.from({ length: WRITERS }, (_, i) => spawnWriter(`w${i}`, TEST_PG_URL, schema, DURATION_MS, 4));
      await Promise.all(writers.map((w) => w.ready));
      // While writers run, what the subscriber has seen must always be a prefix of what a fresh readAll returns.
      const sampler = (async () => {
        while (writers.some((w) => w.proc.exitCode === null)) {
          const snapshot = seen.length;
          const log = await store!.readAll({ maxCount: Math.max(snapshot, 1) });
          if (snapshot > 0) expect(log.slice(0, snapshot).map((e) => e.id)).toEqual(seen.slice(0, snapshot).map((e) => e.id));
          prefixChecks.push(snapshot);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const codes = await Promise.all(writers.map((w) => w.exited));
      await sampler;
      expect(codes, writers.map((w) => w.stderr()).join('\n')).toEqual(writers.map(() => 0));

      const all = await store.readAll();
      const reports = collectReports(writers);
      checkFinalLog(all, reports);
      expect(reports.failed.size).toBe(0);
      expect(all.length).toBe(reports.acked.size);
      const deadline = Date.now() + 20_000;
      while (seen.length < all.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await sub.stop();
      expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
      console.log(
        `[pg multiprocess] writers=${WRITERS} acknowledged=${reports.acked.size} events, streams=${new Set(all.map((e) => e.streamId)).size}, ` +
          `subscriber saw ${seen.length}, prefix checks=${prefixChecks.length}, rate≈${Math.round(reports.acked.size / (DURATION_MS / 1000))} events/s`,
      );
    } finally {
      killAllWriters();
      await store?.close();
    }
  }, 120_000);
});
