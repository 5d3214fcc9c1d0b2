import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore, openSagaEngine, openSqliteEventStore, sagaStreamId, storeDatabase } from '../../src/index.js';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { freshSchemaName } from '../support/pg-schema.js';
import { killAllChildren, spawnTsx, type TsxChild } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { CHAOS_LEDGER_SQL, CHAOS_LEDGER_SQL_PG, CHAOS_STEPS, chaosSaga, type ChaosInput } from './fixtures/chaos-saga.js';

const SOAK = process.env.TESSERA_SOAK === '1';
const SAGAS = SOAK ? 1_000 : 200;
const FAULT_MS = SOAK ? 40_000 : 7_000;
const RUNNERS = 3;
const LEASE_MS = 1_000;
const RUNNER = new URL('./fixtures/chaos-runner.ts', import.meta.url).pathname;

/** A small seeded PRNG, so a failing run can be repeated with the printed seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the runners meet: one SQLite file, or one schema on a PostgreSQL cluster of the test's own. */
const DATABASES = [
  {
    name: 'one SQLite file',
    async open(dir: string) {
      const path = join(dir, 'chaos.db');
      return { store: await openSqliteEventStore({ path }), spec: `sqlite:${path}`, ledger: CHAOS_LEDGER_SQL, drop: async () => undefined };
    },
  },
  {
    // A throwaway cluster: a SIGSTOPped runner can hold a transaction open for seconds, and transaction ids are
    // cluster-wide, so on the shared server it would hold back every other test's gap-safe readAll.
    name: 'a throwaway PostgreSQL cluster',
    async open() {
      const cluster = await startPgCluster();
      const schema = freshSchemaName('saga_chaos');
      const store = await openPostgresEventStore({ connectionString: cluster.url, schema, maxConnections: 4 });
      return { store, spec: `postgres:${schema}|${cluster.url}`, ledger: CHAOS_LEDGER_SQL_PG, drop: () => cluster.destroy() };
    },
  },
];

describe.each(DATABASES)('saga chaos: runner processes killed and paused on $name', (database) => {
  const tmp = tempDir('tessera-saga-chaos-');
  afterAll(async () => {
    await killAllChildren();
    await destroyAllPgClusters();
    tmp.remove();
  });

  it(`${SAGAS} sagas of ${CHAOS_STEPS} steps, 30% failing, ${RUNNERS} runners under kill -9 and SIGSTOP: every invariant holds`, async () => {
    const seed = Number(process.env.TESSERA_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const { store, spec, ledger, drop } = await database.open(tmp.dir);
    const db = storeDatabase(store);
    const client = await openSagaEngine({ store, sagas: [chaosSaga(null)], maxConcurrent: 0 });
    await db.exec(ledger);
    const inputs = new Map<string, ChaosInput>();
    let started = 0;
    const startSome = async (n: number): Promise<void> => {
      for (const end = Math.min(SAGAS, started + n); started < end; started++) {
        const input: ChaosInput = {
          failAt: random() < 0.3 ? Math.floor(random() * CHAOS_STEPS) : null,
          flakyAt: random() < 0.2 ? Math.floor(random() * CHAOS_STEPS) : null,
        };
        inputs.set(`c${started}`, input);
        await client.start('chaos', `c${started}`, input);
      }
    };
    // A third up front, the rest spread over the fault window, so faults always hit sagas in flight.
    await startSome(Math.ceil(SAGAS / 3));

    const runners: TsxChild[] = [];
    const stats = { claimed: 0, fencedWrites: 0, errors: 0 };
    const addStats = (child: TsxChild): void => {
      const line = [...child.lines].reverse().find((l) => l.startsWith('STATS '));
      if (line === undefined) return;
      const s = JSON.parse(line.slice(6)) as typeof stats;
      stats.claimed += s.claimed;
      stats.fencedWrites += s.fencedWrites;
      stats.errors += s.errors;
    };
    let generation = 0;
    const spawnRunner = async (slot: number): Promise<void> => {
      const child = spawnTsx(RUNNER, [spec, `r${slot}-${generation++}`, String(LEASE_MS)], { name: `runner ${slot}` });
      runners[slot] = child;
      await child.waitForLine((l) => l === 'READY', 30_000);
    };
    await Promise.all(Array.from({ length: RUNNERS }, (_, slot) => spawnRunner(slot)));

    // Faults: kill -9 and restart runners at random; once in a while SIGSTOP one past its lease, then SIGCONT.
    let kills = 0;
    let pauses = 0;
    const faultsEnd = Date.now() + FAULT_MS;
    const batch = Math.ceil((SAGAS - started) / (FAULT_MS / 700));
    for (let round = 0; Date.now() < faultsEnd || started < SAGAS; round++) {
      await startSome(batch);
      await sleep(300 + Math.floor(random() * 500));
      const slot = Math.floor(random() * RUNNERS);
      if (round === 1 || random() < 0.15) {
        const pid = runners[slot]!.process.pid!;
        process.kill(pid, 'SIGSTOP');
        await sleep(LEASE_MS * 2.5);
        process.kill(pid, 'SIGCONT');
        pauses++;
      } else {
        await runners[slot]!.kill9();
        addStats(runners[slot]!);
        kills++;
        await spawnRunner(slot);
      }
    }
    const faultsStopped = Date.now();

    // After the faults: every saga must reach a terminal status within 60 s.
    const terminal = "('completed', 'compensated', 'cancelled', 'compensation_failed')";
    let open = SAGAS;
    while (Date.now() - faultsStopped < 60_000) {
      const [row] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM tessera_saga_instances WHERE status NOT IN ${terminal}`);
      open = Number(row!.n);
      if (open === 0) break;
      await sleep(100);
    }
    const settleMs = Date.now() - faultsStopped;
    expect(open).toBe(0);

    await Promise.all(
      runners.map(async (r) => {
        r.process.kill('SIGTERM');
        await r.exited;
        addStats(r);
      }),
    );

    const q = <R extends object>(sql: string) => db.query<R>(sql);
    const statuses = await q<{ saga_id: string; status: string; lease_owner: string | null }>('SELECT saga_id, status, lease_owner FROM tessera_saga_instances');
    const effects = await q<{ saga_id: string; step_no: number; phase: string }>('SELECT saga_id, step_no, phase FROM chaos_effects');
    const undoLog = await q<{ saga_id: string; step_no: number }>('SELECT saga_id, step_no FROM chaos_undo_log ORDER BY seq');
    const [attempts] = await q<{ total: number; repeated: number }>('SELECT sum(n) AS total, sum(CASE WHEN n > 1 THEN 1 ELSE 0 END) AS repeated FROM chaos_attempts');
    const [stale] = await q<{ n: number }>('SELECT count(*) AS n FROM chaos_stale');
    const [reruns] = await q<{ n: number }>("SELECT count(*) AS n FROM tessera_saga_steps s WHERE s.attempts > 1");
    const undoWithoutDo = await q('SELECT u.key FROM chaos_effects u WHERE u.phase = \'undo\' AND NOT EXISTS (SELECT 1 FROM tessera_saga_steps s WHERE s.saga_id = u.saga_id AND s.step_no = u.step_no AND s.phase = \'do\')');

    const doneBy = new Map<string, Set<number>>();
    const undoneBy = new Map<string, number[]>();
    for (const e of effects) {
      if (e.phase === 'do') doneBy.set(e.saga_id, (doneBy.get(e.saga_id) ?? new Set()).add(Number(e.step_no)));
    }
    for (const u of undoLog) undoneBy.set(u.saga_id, [...(undoneBy.get(u.saga_id) ?? []), Number(u.step_no)]);

    const problems: string[] = [];
    let completed = 0;
    let compensated = 0;
    for (const s of statuses) {
      const input = inputs.get(s.saga_id)!;
      const done = [...(doneBy.get(s.saga_id) ?? [])].sort((a, b) => a - b);
      const undone = undoneBy.get(s.saga_id) ?? [];
      if (s.lease_owner !== null) problems.push(`${s.saga_id}: lease still held by ${s.lease_owner}`);
      if (input.failAt === null) {
        completed++;
        if (s.status !== 'completed') problems.push(`${s.saga_id}: ${s.status}, expected completed`);
        if (done.length !== CHAOS_STEPS) problems.push(`${s.saga_id}: effects ${done.join(',')}`);
        if (undone.length > 0) problems.push(`${s.saga_id}: completed but compensated ${undone.join(',')}`);
      } else {
        compensated++;
        const expected = Array.from({ length: input.failAt }, (_, k) => k);
        if (s.status !== 'compensated') problems.push(`${s.saga_id}: ${s.status}, expected compensated`);
        if (done.join(',') !== expected.join(',')) problems.push(`${s.saga_id}: effects ${done.join(',')} expected ${expected.join(',')}`);
        if (undone.join(',') !== [...expected].reverse().join(',')) problems.push(`${s.saga_id}: undo order ${undone.join(',')}`);
      }
    }
    // Exactly one terminal lifecycle event per saga, matching its status.
    for (const s of statuses.slice(0, SOAK ? statuses.length : 50)) {
      const types = (await store.readStream(sagaStreamId(s.saga_id))).map((e) => e.type);
      const terminalEvents = types.filter((t) => ['SagaCompleted', 'SagaCompensated', 'SagaCancelled', 'SagaCompensationFailed'].includes(t));
      const want = s.status === 'completed' ? 'SagaCompleted' : 'SagaCompensated';
      if (terminalEvents.length !== 1 || terminalEvents[0] !== want) problems.push(`${s.saga_id}: lifecycle ${types.join(',')}`);
    }

    console.log(
      `saga chaos on ${database.name} (seed ${seed}): ${SAGAS} sagas, ${completed} completed, ${compensated} compensated; ` +
        `${kills} kill -9, ${pauses} SIGSTOP/SIGCONT; all terminal ${settleMs} ms after faults stopped; ` +
        `${effects.filter((e) => e.phase === 'do').length} step effects, ${undoLog.length} compensations, ` +
        `${Number(attempts!.total)} effect attempts (${Number(attempts!.repeated)} keys run more than once, deduped); ` +
        `${Number(reruns!.n)} step rows with more than one attempt; claims ${stats.claimed}, fenced (refused) writes ${stats.fencedWrites}, stale-fence writes stored ${Number(stale!.n)}, runner errors ${stats.errors}`,
    );
    expect(problems.slice(0, 20)).toEqual([]);
    expect(Number(stale!.n)).toBe(0);
    expect(undoWithoutDo).toEqual([]);
    expect(statuses).toHaveLength(SAGAS);
    await client.stop();
    await store.close();
    await drop();
  }, SOAK ? 600_000 : 150_000);
});
