import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  adminQuery,
  committedTransactions,
  dbosTarget,
  rawPgTarget,
  rawSqliteSchemaTarget,
  rawSqliteTarget,
  SAGA_BENCH_PG,
  type SagaTarget,
  tesseraTarget,
} from './saga-targets.js';

/** Options of {@link runSagaBench}. */
export interface SagaBenchOptions {
  /** Sagas run one after another per repetition (default 500). */
  sequential?: number;
  /** Sagas run with `concurrency` in flight per repetition (default 2,000). */
  concurrent?: number;
  concurrency?: number;
  steps?: number;
  /** Timed repetitions (default 3); rows alternate order, ratios are medians of per-repetition ratios. */
  repetitions?: number;
  /** Rows to run (default all); see {@link ROWS}. */
  rows?: string[];
  /** Where saga-latest.md/.json go (default bench/results); null writes nothing. */
  out?: string | null;
  log?(line: string): void;
}

/** One row in one mode: its median rate over the repetitions, and (PostgreSQL) its commits. */
export interface SagaBenchResult {
  row: string;
  label: string;
  mode: 'sequential' | 'concurrent';
  concurrency: number;
  sagas: number;
  /** Rate of each repetition. */
  rates: number[];
  sagasPerSec: number;
  /** PostgreSQL rows: committed transactions per saga (reads included), from pg_stat_database, in a separate counted run. */
  commitsPerSaga: number | null;
}

const ROWS: Record<string, (database: string, steps: number) => Promise<SagaTarget>> = {
  'tessera-postgres': (d, k) => tesseraTarget('postgres', true, d, k),
  'tessera-postgres-quiet': (d, k) => tesseraTarget('postgres', false, d, k),
  'raw-postgres': (d) => rawPgTarget(d),
  dbos: () => dbosTarget(),
  'tessera-sqlite': (d, k) => tesseraTarget('sqlite', true, d, k),
  'tessera-sqlite-quiet': (d, k) => tesseraTarget('sqlite', false, d, k),
  'raw-sqlite': () => rawSqliteTarget(),
  'floor-sqlite': () => rawSqliteSchemaTarget(true),
  'floor-sqlite-quiet': () => rawSqliteSchemaTarget(false),
};

/** Backends publish their counters when idle, after up to 10 s (PGSTAT_IDLE_INTERVAL): wait that out before reading them. */
const STATS_SETTLE_MS = 11_000;

const MODES = ['sequential', 'concurrent'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function countCommits(target: SagaTarget, ids: string[], steps: number, concurrency: number): Promise<number> {
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
  await target.resume?.();
  await settle();
  const before = await committedTransactions(target.database!);
  await target.run(ids, steps, concurrency);
  // The engine's idle polls while the counters settle are not the run's: stop them (the next run restarts it).
  await target.quiesce?.();
  await settle();
  // Minus one: our own read of the counter before the run.
  return ((await committedTransactions(target.database!)) - before - 1) / ids.length;
}

/**
 * 3-step saga throughput, as issue 8 asks: N sagas one after another and M sagas with C in flight, on Tessera's
 * engine (PostgreSQL and SQLite, with and without lifecycle events), DBOS Transact on the same PostgreSQL server,
 * the raw-driver floors (pg; better-sqlite3 directly) doing the same commits, and on SQLite the floor of any engine
 * on Tessera's schema (its transitions' statements straight on better-sqlite3, with and without the events). Every row is opened once and
 * warmed up; then each repetition times every row in each mode (alternating the row order), so a slow moment of
 * a shared machine lands on all rows alike; ratios are medians of per-repetition ratios. Afterwards one counted
 * run per PostgreSQL row reads the committed transactions of the run's own database from `pg_stat_database`.
 *
 * @example
 * ```ts
 * const results = await runSagaBench({ sequential: 500, concurrent: 2000, concurrency: 16 });
 * console.table(results);
 * ```
 */
export async function runSagaBench(opts: SagaBenchOptions = {}): Promise<{ results: SagaBenchResult[]; summary: string[] }> {
  const o = { sequential: opts.sequential ?? 500, concurrent: opts.concurrent ?? 2_000, concurrency: opts.concurrency ?? 16, steps: opts.steps ?? 3, repetitions: opts.repetitions ?? 3 };
  const log = opts.log ?? ((l: string) => console.log(l));
  // One database per PostgreSQL row: pg_stat_database then counts each row's commits (and polls) alone.
  const databaseOf = (row: string): string => `saga_bench_${process.pid}_${row.replace(/-/g, '_')}`;
  const rows = opts.rows ?? Object.keys(ROWS);
  for (const row of rows) if (ROWS[row] === undefined) throw new Error(`unknown saga bench row "${row}" (rows: ${Object.keys(ROWS).join(', ')})`);
  log(`saga bench: ${o.steps}-step sagas; ${o.sequential} sequential and ${o.concurrent} at concurrency ${o.concurrency}, ${o.repetitions} repetitions`);
  const pgRows = rows.filter((r) => r.includes('postgres'));
  for (const row of pgRows) await adminQuery(SAGA_BENCH_PG, `CREATE DATABASE ${databaseOf(row)}`);
  const targets = new Map<string, SagaTarget>();
  const rates = new Map<string, number[]>();
  const commits = new Map<string, number>();
  let round = 0;
  const ids = (n: number): string[] => {
    const r = round++;
    return Array.from({ length: n }, (_, i) => `r${r}-${i}`);
  };
  try {
    for (const row of rows) {
      const t = await ROWS[row]!(databaseOf(row), o.steps);
      targets.set(row, t);
      await t.run(ids(50), o.steps, o.concurrency);
    }
    for (let rep = 0; rep < o.repetitions; rep++) {
      const order = rep % 2 === 0 ? rows : [...rows].reverse();
      for (const mode of MODES) {
        const [n, c] = mode === 'sequential' ? [o.sequential, 1] : [o.concurrent, o.concurrency];
        for (const row of order) {
          const t0 = performance.now();
          await targets.get(row)!.run(ids(n), o.steps, c);
          const rate = n / ((performance.now() - t0) / 1000);
          rates.set(`${row}/${mode}`, [...(rates.get(`${row}/${mode}`) ?? []), rate]);
          log(`rep ${rep + 1} ${mode.padEnd(10)} ${targets.get(row)!.name.padEnd(48)} ${rate.toFixed(0).padStart(6)} sagas/s`);
        }
      }
    }
    for (const row of rows) {
      const t = targets.get(row)!;
      if (t.database === null) continue;
      for (const mode of MODES) {
        const [n, c] = mode === 'sequential' ? [Math.min(o.sequential, 300), 1] : [Math.min(o.concurrent, 1_000), o.concurrency];
        commits.set(`${row}/${mode}`, await countCommits(t, ids(n), o.steps, c));
        log(`commits ${mode.padEnd(10)} ${t.name.padEnd(48)} ${commits.get(`${row}/${mode}`)!.toFixed(2)} per saga`);
      }
    }
  } finally {
    for (const t of targets.values()) await t.close().catch(() => undefined);
    for (const row of pgRows) await adminQuery(SAGA_BENCH_PG, `DROP DATABASE IF EXISTS ${databaseOf(row)} WITH (FORCE)`);
  }
  const results: SagaBenchResult[] = rows.flatMap((row) =>
    MODES.map((mode) => {
      const r = rates.get(`${row}/${mode}`)!;
      return {
        row, label: targets.get(row)!.name, mode, concurrency: mode === 'sequential' ? 1 : o.concurrency, sagas: mode === 'sequential' ? o.sequential : o.concurrent,
        rates: r, sagasPerSec: median(r), commitsPerSaga: commits.get(`${row}/${mode}`) ?? null,
      };
    }),
  );
  const summary = ratios(results, o.steps);
  for (const line of summary) log(line);
  if (opts.out !== null) write(opts.out ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results'), results, summary, o);
  return { results, summary };
}

function ratios(results: SagaBenchResult[], steps: number): string[] {
  const lines: string[] = [];
  const find = (row: string, mode: string): SagaBenchResult | undefined => results.find((r) => r.row === row && r.mode === mode);
  for (const [a, b] of [['tessera-postgres', 'dbos'], ['tessera-postgres-quiet', 'dbos'], ['raw-postgres', 'dbos'], ['tessera-postgres', 'raw-postgres'], ['tessera-postgres-quiet', 'raw-postgres'], ['tessera-sqlite', 'raw-sqlite'], ['tessera-sqlite-quiet', 'raw-sqlite'],
    ['floor-sqlite', 'raw-sqlite'], ['floor-sqlite-quiet', 'raw-sqlite'], ['tessera-sqlite', 'floor-sqlite'], ['tessera-sqlite-quiet', 'floor-sqlite-quiet']] as const) {
    for (const mode of MODES) {
      const x = find(a, mode);
      const y = find(b, mode);
      if (x === undefined || y === undefined) continue;
      const per = x.rates.map((v, i) => v / y.rates[i]!);
      lines.push(`${a} / ${b} (${mode}): ${median(per).toFixed(2)}x (repetitions ${per.map((v) => v.toFixed(2)).join(', ')})`);
    }
  }
  for (const r of results) {
    if (r.commitsPerSaga !== null) lines.push(`${r.row} (${r.mode}): ${r.commitsPerSaga.toFixed(2)} commits per saga, ${(r.commitsPerSaga / (steps + 1)).toFixed(2)} per transition`);
  }
  return lines;
}

function write(dir: string, results: SagaBenchResult[], summary: string[], o: { sequential: number; concurrent: number; concurrency: number; steps: number; repetitions: number }): void {
  mkdirSync(dir, { recursive: true });
  const table = [
    '| row | mode | sagas/s (median) | commits/saga | commits/transition |',
    '|---|---|---:|---:|---:|',
    ...results.map((r) => `| ${r.label} | ${r.mode === 'sequential' ? 'sequential' : `c=${r.concurrency}`} | ${r.sagasPerSec.toFixed(0)} | ${r.commitsPerSaga?.toFixed(2) ?? '–'} | ${r.commitsPerSaga === null ? '–' : (r.commitsPerSaga / (o.steps + 1)).toFixed(2)} |`),
  ];
  const md = [
    `# Saga bench (${new Date().toISOString()})`,
    '',
    `${o.steps}-step sagas of no-op steps; ${o.sequential} run one after another, ${o.concurrent} with ${o.concurrency} in flight (each worker starts a saga and waits for its end); ${o.repetitions} repetitions, rows in alternating order, medians.`,
    `"no lifecycle events" rows run with \`lifecycleEvents: false\`; the others with the default (a SagaStarted and a SagaCompleted event per saga, in the transitions' commits).`,
    `"raw better-sqlite3 on Tessera's saga schema" rows run the statements of Tessera's transitions (and the event store's appends of the two lifecycle events) straight on better-sqlite3, in the same commits: the floor of any engine on that schema.`,
    `Commits: \`pg_stat_database.xact_commit\` of the run's own database over a separate counted run (every autocommit read counts too: polls, waitForTerminal, a NOTIFY sent after a commit; and so does each wake-up of a LISTENing connection, which PostgreSQL gives every listener of the database for every NOTIFY in it), divided by sagas and by the ${o.steps + 1} transitions of a saga (start + one per step).`,
    '',
    ...table,
    '',
    ...summary.map((l) => `- ${l}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'saga-latest.md'), md);
  writeFileSync(join(dir, 'saga-latest.json'), `${JSON.stringify({ options: o, results }, null, 2)}\n`);
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
}

// `npm run bench:saga -- [--quick] [--sequential 500] [--concurrent 2000] [--concurrency 16] [--steps 3] [--repetitions 3] [--rows a,b] [--no-write]`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const o: SagaBenchOptions = { sequential: quick ? 150 : 500, concurrent: quick ? 600 : 2_000 };
  for (const key of ['sequential', 'concurrent', 'concurrency', 'steps', 'repetitions'] as const) {
    const v = flag(args, key);
    if (v !== undefined) o[key] = Number(v);
  }
  const rows = flag(args, 'rows');
  if (rows !== undefined) o.rows = rows.split(',');
  if (args.includes('--no-write')) o.out = null;
  await runSagaBench(o);
  process.exit(0);
}
