import { fileURLToPath } from 'node:url';
import { dbosTarget, rawTarget, type SagaTarget, tesseraTarget } from './saga-targets.js';

/** Options of {@link runSagaBench}. */
export interface SagaBenchOptions {
  sagas?: number;
  steps?: number;
  /** Sagas in flight at once (the engine's maxConcurrent; workers for the raw and DBOS rows). */
  concurrency?: number;
  /** Rows to run (default all): tessera-sqlite(-quiet), raw-sqlite, tessera-postgres(-quiet), raw-postgres, dbos; -quiet rows run without lifecycle events. */
  rows?: string[];
  /** Printed as the table is built (default console.log). */
  log?(line: string): void;
}

/** One measured row. */
export interface SagaBenchRow {
  row: string;
  label: string;
  sagas: number;
  steps: number;
  seconds: number | null;
  sagasPerSec: number | null;
  stepsPerSec: number | null;
  note?: string;
}

const ROWS: Record<string, () => Promise<SagaTarget>> = {
  'tessera-sqlite': () => tesseraTarget('sqlite'),
  'tessera-sqlite-quiet': () => tesseraTarget('sqlite', false),
  'raw-sqlite': () => rawTarget('sqlite'),
  'tessera-postgres': () => tesseraTarget('postgres'),
  'tessera-postgres-quiet': () => tesseraTarget('postgres', false),
  'raw-postgres': () => rawTarget('postgres'),
  dbos: () => dbosTarget(),
};

/**
 * Saga throughput side by side: N sagas of K steps run to completion by Tessera's saga engine on SQLite and on
 * PostgreSQL, by DBOS Transact (durable workflows, PostgreSQL), and by the raw-driver floor (one commit per step).
 * A warm-up round of a tenth of the size runs first on each row.
 *
 * @example
 * ```ts
 * const rows = await runSagaBench({ sagas: 500, steps: 5, concurrency: 32 });
 * console.table(rows);
 * ```
 */
export async function runSagaBench(opts: SagaBenchOptions = {}): Promise<SagaBenchRow[]> {
  const sagas = opts.sagas ?? 500;
  const steps = opts.steps ?? 5;
  const concurrency = opts.concurrency ?? 32;
  const log = opts.log ?? ((l: string) => console.log(l));
  const results: SagaBenchRow[] = [];
  log(`saga bench: ${sagas} sagas x ${steps} steps, ${concurrency} in flight`);
  for (const row of opts.rows ?? Object.keys(ROWS)) {
    const open = ROWS[row];
    if (open === undefined) throw new Error(`unknown saga bench row "${row}" (rows: ${Object.keys(ROWS).join(', ')})`);
    let target: SagaTarget | undefined;
    try {
      target = await open();
      await target.run(Math.max(1, Math.floor(sagas / 10)), steps, concurrency);
      const t0 = performance.now();
      const { note } = await target.run(sagas, steps, concurrency);
      const seconds = (performance.now() - t0) / 1000;
      const r: SagaBenchRow = { row, label: target.name, sagas, steps, seconds, sagasPerSec: sagas / seconds, stepsPerSec: (sagas * steps) / seconds };
      if (note !== undefined) r.note = note;
      results.push(r);
      log(`${target.name.padEnd(42)} ${r.sagasPerSec!.toFixed(0).padStart(7)} sagas/s ${r.stepsPerSec!.toFixed(0).padStart(8)} steps/s  (${seconds.toFixed(2)} s${note ? `, ${note}` : ''})`);
    } catch (e) {
      const note = `unavailable: ${e instanceof Error ? e.message : String(e)}`;
      results.push({ row, label: target?.name ?? row, sagas, steps, seconds: null, sagasPerSec: null, stepsPerSec: null, note });
      log(`${row.padEnd(42)} ${note}`);
    } finally {
      await target?.close().catch(() => undefined);
    }
  }
  const byRow = new Map(results.map((r) => [r.row, r.sagasPerSec]));
  for (const [a, b] of [['tessera-sqlite', 'raw-sqlite'], ['tessera-postgres', 'raw-postgres'], ['tessera-postgres', 'dbos']] as const) {
    const x = byRow.get(a);
    const y = byRow.get(b);
    if (x && y) log(`${a} / ${b}: ${(x / y).toFixed(2)}x`);
  }
  return results;
}

// `npx tsx bench/saga.ts [sagas] [steps] [concurrency] [row,row]`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [sagas, steps, concurrency, rows] = process.argv.slice(2);
  const o: SagaBenchOptions = {};
  if (sagas) o.sagas = Number(sagas);
  if (steps) o.steps = Number(steps);
  if (concurrency) o.concurrency = Number(concurrency);
  if (rows) o.rows = rows.split(',');
  await runSagaBench(o);
  process.exit(0);
}
