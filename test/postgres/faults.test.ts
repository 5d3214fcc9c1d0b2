import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventStore, isTesseraError, openPostgresEventStore, type RecordedEvent } from '../../src/index.js';
import { destroyAllPgClusters, type PgCluster, startPgCluster } from '../support/pg-cluster.js';
import { checkFinalLog, collectReports, killAllWriters, spawnWriter, type Writer } from './log-check.js';

afterAll(async () => {
  killAllWriters();
  await destroyAllPgClusters();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RUN_MS = Number(process.env.TESSERA_SOAK) === 1 ? 60_000 : 8_000;

/** Terminates every client connection of the cluster except the admin one doing it; returns how many. */
async function terminateBackends(cluster: PgCluster): Promise<number> {
  const admin = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    const res = await admin.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
    );
    return res.rows.length;
  } finally {
    await admin.end();
  }
}

/** readAll that rides out the restart window (retryable errors are retried, bounded). */
async function readAllRetrying(store: EventStore): Promise<RecordedEvent[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.readAll();
    } catch (e) {
      if (attempt > 100 || !(isTesseraError(e) && e.retryable)) throw e;
      await sleep(100);
    }
  }
}

describe('PostgreSQL event store under faults (throwaway cluster)', () => {
  it('survives kill -9 of writers, pg_terminate_backend of every connection and an immediate server restart: no acknowledged write lost, none twice, the subscriber skips nothing', async () => {
    const cluster = await startPgCluster();
    const schema = 'faults';
    let store: EventStore | undefined;
    const writers: Writer[] = [];
    const counts = { writers: 0, killed: 0, restarted: 0, terminatedConnections: 0 };
    try {
      store = await openPostgresEventStore({ connectionString: cluster.url, schema, connectTimeoutMs: 2_000, readWaitMs: 500 });
      const seen: RecordedEvent[] = [];
      const sub = store.subscribeToAll({ pollIntervalMs: 50, handler: (e) => void seen.push(e) });
      const start = (ms: number): Writer => {
        const w = spawnWriter(`w${counts.writers++}`, cluster.url, schema, ms, 6);
        writers.push(w);
        return w;
      };
      const first = Array.from({ length: 4 }, () => start(RUN_MS));
      await Promise.all(first.map((w) => w.ready));
      const t0 = Date.now();
      const at = async (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
      const kill = async (w: Writer) => {
        w.proc.kill('SIGKILL');
        await w.exited;
        counts.killed++;
      };

      await at(RUN_MS * 0.15);
      await kill(first[0]!);
      start(RUN_MS * 0.6);
      await at(RUN_MS * 0.3);
      counts.terminatedConnections += await terminateBackends(cluster);
      await at(RUN_MS * 0.45);
      await cluster.stopImmediate();
      await sleep(700);
      await cluster.start();
      counts.restarted++;
      await at(RUN_MS * 0.6);
      await kill(first[1]!);
      await at(RUN_MS * 0.7);
      counts.terminatedConnections += await terminateBackends(cluster);

      const codes = await Promise.all(writers.map((w) => w.exited));
      const survivors = writers.filter((w, i) => w !== first[0] && w !== first[1] && codes[i] !== 0);
      expect(survivors.map((w) => w.stderr()), 'writers that crashed on their own').toEqual([]);

      const all = await readAllRetrying(store);
      const reports = collectReports(writers);
      const { indeterminateStored } = checkFinalLog(all, reports);
      expect(reports.acked.size).toBeGreaterThan(0);

      const deadline = Date.now() + 30_000;
      while (seen.length < all.length && Date.now() < deadline) await sleep(20);
      await sub.stop();
      expect(seen.map((e) => e.id), 'the subscriber saw exactly the final log, in order').toEqual(all.map((e) => e.id));

      console.log(
        `[pg faults] writers=${counts.writers} acknowledged=${reports.acked.size} events, definite failures=${reports.failed.size}, ` +
          `indeterminate=${reports.indeterminate.size} (stored ${indeterminateStored}), stored=${all.length}, killed(-9)=${counts.killed}, ` +
          `server restarts=${counts.restarted}, terminated connections=${counts.terminatedConnections}, subscriber delivered=${seen.length}, lost=0, duplicates=0`,
      );
    } finally {
      killAllWriters();
      await store?.close();
      await cluster.destroy();
    }
  }, 120_000);
});
