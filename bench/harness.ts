import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { machineInfo } from './machine.js';
import { addRatios, checkTargets, median } from './report.js';
import { measureStreamAll, type StreamAllRow } from './stream-all.js';
import { emmettPgRow, emmettSqliteRow } from './targets/emmett.js';
import { dropBenchDatabase, pgVersion } from './targets/pg-admin.js';
import { rawPgRow, tesseraPgRow } from './targets/pg.js';
import { rawSqliteRow, tesseraSqliteRow } from './targets/sqlite.js';
import type { BenchResult, RowResult, RowSpec, Sizes, Target, WorkloadId, WorkloadResult } from './types.js';
import { runOnce, prepare, WORKLOADS, n } from './workloads.js';

export interface BenchOptions {
  sizes: Sizes;
  /** Show a cli-progress bar on stderr (off in tests). */
  progress?: boolean;
  /** Skip the PostgreSQL rows (they then print why). */
  skipPostgres?: boolean;
}

/** Every row of workloads (a)–(e), in table order. */
export function rowSpecs(pgUnavailable: string | undefined): RowSpec[] {
  return [
    tesseraSqliteRow('FULL'),
    tesseraSqliteRow('NORMAL'),
    emmettSqliteRow('default'),
    emmettSqliteRow('shared'),
    rawSqliteRow('FULL'),
    rawSqliteRow('NORMAL'),
    rawSqliteRow('FULL', true),
    rawSqliteRow('FULL', true, true),
    tesseraPgRow(pgUnavailable),
    emmettPgRow(pgUnavailable),
    rawPgRow(pgUnavailable),
  ];
}

function streamAllRows(pgUnavailable: string | undefined): StreamAllRow[] {
  const tesseraPg = tesseraPgRow(pgUnavailable).unavailable;
  return [
    { id: 'tessera-sqlite-full', label: 'Tessera SQLite (streamAll)', engine: 'sqlite', kind: 'tessera' },
    { id: 'raw-sqlite-full', label: 'raw better-sqlite3 (iterate)', engine: 'sqlite', kind: 'raw' },
    { id: 'emmett-sqlite', label: 'Emmett SQLite', engine: 'sqlite', kind: 'emmett', unavailable: 'n/a (no streamAll equivalent)' },
    { id: 'tessera-pg', label: 'Tessera PG (streamAll)', engine: 'postgres', kind: 'tessera', ...(tesseraPg ? { unavailable: tesseraPg } : {}) },
    { id: 'raw-pg', label: 'raw pg (pg-cursor)', engine: 'postgres', kind: 'raw', ...(pgUnavailable ? { unavailable: pgUnavailable } : {}) },
  ];
}

function failure(e: unknown): string {
  return `failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 140)}`;
}

/** Opens a row's target and warms it up; a row that cannot start is reported, not fatal. */
async function openAndPrepare(spec: RowSpec, id: WorkloadId, sizes: Sizes, r: RowResult): Promise<Target | null> {
  let t: Target | null = null;
  try {
    t = await spec.open();
    await prepare(id, t, sizes);
    return t;
  } catch (e) {
    r.note = failure(e);
    await t?.close().catch(() => undefined);
    return null;
  }
}

/** Execution order inside one repetition: each Tessera row next to the raw row it is compared with. */
const RUN_ORDER = [
  'tessera-sqlite-full',
  'raw-sqlite-full',
  'raw-sqlite-full-ids',
  'raw-sqlite-full-ids-turn',
  'tessera-sqlite-normal',
  'raw-sqlite-normal',
  'emmett-sqlite-shared',
  'emmett-sqlite-default',
  'tessera-pg',
  'raw-pg',
  'emmett-pg',
];
const rank = (id: string): number => (RUN_ORDER.includes(id) ? RUN_ORDER.indexOf(id) : RUN_ORDER.length);

function emptyRow(spec: { id: string; label: string; engine: RowResult['engine']; kind: RowResult['kind'] }, note?: string): RowResult {
  return { row: spec.id, label: spec.label, engine: spec.engine, kind: spec.kind, samples: [], median: null, min: null, vsEmmett: null, vsRaw: null, ...(note ? { note } : {}) };
}

function summarize(r: RowResult): void {
  if (r.samples.length === 0) return;
  r.median = median(r.samples);
  r.min = Math.min(...r.samples);
}

/**
 * Runs every workload on every row and returns the tables. Repetitions are interleaved across rows
 * (rep 1 of every row, then rep 2, …, compared rows back to back, order reversed every other repetition)
 * so a slow phase of a busy machine hits all rows alike.
 */
export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const { sizes } = opts;
  const pg = opts.skipPostgres ? null : await pgVersion();
  const pgUnavailable = opts.skipPostgres ? 'n/a (skipped)' : pg === null ? 'n/a (PostgreSQL not reachable)' : undefined;
  const specs = rowSpecs(pgUnavailable);
  const fRows = streamAllRows(pgUnavailable);
  const runnable = specs.filter((s) => !s.unavailable);
  const total =
    WORKLOADS.reduce((acc, w) => acc + runnable.filter((s) => !s.skip?.includes(w.id)).length * sizes.reps, 0) +
    fRows.filter((r) => !r.unavailable).length * sizes.streamAllReps;
  const bar = opts.progress ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {value}/{total} | {task}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 10_000 }, cliProgress.Presets.shades_classic) : null;
  bar?.start(total, 0, { task: 'starting' });
  const t0 = performance.now();
  const tick = (task: string): void => {
    bar?.increment(1, { task });
    if (process.env.TESSERA_BENCH_DEBUG) console.error(`${((performance.now() - t0) / 1000).toFixed(1)}s ${task}`);
  };
  // Emmett's SQLite store console.logs every error it rethrows; the retries are counted in the table instead.
  const log = console.log;
  console.log = (...args: unknown[]) => (args.length === 1 && args[0] instanceof Error ? undefined : log(...args));
  const result: BenchResult = { startedAt: new Date().toISOString(), sizes, machine: machineInfo(pg ?? (opts.skipPostgres ? 'skipped' : null)), workloads: [], targets: [] };
  try {
    for (const w of WORKLOADS) {
      const rows = specs.filter((s) => !s.skip?.includes(w.id));
      const out: WorkloadResult = { id: w.id, title: w.title(sizes), rows: rows.map((s) => emptyRow(s, s.unavailable)) };
      for (const r of out.rows) {
        const spec = rows.find((s) => s.id === r.row)!;
        if (spec.durability) r.durability = spec.durability;
      }
      const open: (Target | null)[] = [];
      try {
        for (const [i, s] of rows.entries()) {
          open.push(s.unavailable ? null : await openAndPrepare(s, w.id, sizes, out.rows[i]!));
        }
        const order = rows.map((_, i) => i).sort((x, y) => rank(rows[x]!.id) - rank(rows[y]!.id));
        for (let rep = 0; rep < sizes.reps; rep++) {
          for (const i of rep % 2 ? [...order].reverse() : order) {
            const t = open[i];
            if (!t) continue;
            const r = out.rows[i]!;
            tick(`(${w.id}) ${r.label}`);
            if (r.note !== undefined) continue; // failed in an earlier repetition
            const started = performance.now();
            try {
              const events = await runOnce(w.id, t, sizes, rep);
              r.samples.push(events / ((performance.now() - started) / 1000));
            } catch (e) {
              r.note = failure(e);
              r.samples = [];
            }
          }
        }
        for (const [i, t] of open.entries()) {
          const extra = t?.note?.();
          const r = out.rows[i]!;
          if (extra) r.note = r.note ? `${r.note}; ${extra}` : extra;
        }
      } finally {
        for (const t of open) await t?.close().catch(() => undefined);
      }
      out.rows.forEach(summarize);
      addRatios(out);
      result.workloads.push(out);
    }
    result.workloads.push(await streamAll(sizes, fRows, tick));
  } finally {
    bar?.stop();
    console.log = log;
    await dropBenchDatabase().catch(() => undefined);
  }
  result.targets = checkTargets(result);
  return result;
}

async function streamAll(sizes: Sizes, rows: StreamAllRow[], tick: (task: string) => void): Promise<WorkloadResult> {
  const out: WorkloadResult = {
    id: 'f',
    title: `(f) streamAll over ${n(sizes.streamAllEvents)} events, each run in a fresh child process (peak RSS of that process)`,
    rows: [],
  };
  for (const row of rows) {
    const r = emptyRow(row, row.unavailable);
    out.rows.push(r);
    if (row.unavailable) continue;
    try {
      const samples = await measureStreamAll(row, sizes, () => tick(`(f) ${row.label}`));
      r.samples = samples.map((s) => s.eventsPerSecond);
      r.peakRssMb = Math.max(...samples.map((s) => s.peakRssMb));
      r.baselineRssMb = Math.min(...samples.map((s) => s.baselineRssMb));
    } catch (e) {
      r.note = failure(e);
    }
    summarize(r);
  }
  addRatios(out);
  return out;
}
