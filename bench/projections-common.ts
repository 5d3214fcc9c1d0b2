/**
 * What the projection catch-up benchmark's paths share: the read model (a running total per cart, one
 * upsert per event), the log it is built from, timing, and the summary rows.
 */
import { type EventStore, type Projector, projection } from '../src/index.js';

/** Events per batch, the same for every path. */
export const BATCH = 500;
const CARTS = 200;

/** One row of a table. */
export interface ProjectionBenchRow {
  path: string;
  events: number;
  medianEventsPerSec: number;
  bestEventsPerSec: number;
  /** Process CPU time (user + system) per event, median: steadier than events/s on a shared machine. */
  medianCpuMicrosPerEvent: number;
  /** Median over runs of this path's events/s divided by the raw path's in the same run. */
  ratio: number;
  /** The same with CPU time per event (raw's over this path's). */
  cpuRatio: number;
}

/** Wall and CPU milliseconds of one run. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

export function startTimer(): { stop(): Timing } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return {
    stop: () => {
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1_000 };
    },
  };
}

/** The Tessera projection every engine runs: an async `apply` with one awaited upsert, as users write it. */
export const cartTotals = projection({
  name: 'bench_cart_totals',
  version: 1,
  tables: ['bench_cart_totals'],
  handles: ['ItemAdded'],
  setup: (db, t) => db.exec(`CREATE TABLE IF NOT EXISTS ${t.bench_cart_totals} (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`),
  apply: async (e, db, t) => {
    const d = e.data as { qty: number; price: number };
    await db.run(upsertSql(t.bench_cart_totals), [e.streamId, d.qty * d.price]);
  },
});

// Built once per physical table (live or rebuild shadow), as a projection should: not per event.
const upserts = new Map<string, string>();
export function upsertSql(table: string): string {
  let sql = upserts.get(table);
  if (sql === undefined) {
    sql = `INSERT INTO ${table} (cart_id, total) VALUES (?, ?) ON CONFLICT (cart_id) DO UPDATE SET total = ${table}.total + excluded.total`;
    upserts.set(table, sql);
  }
  return sql;
}

/** Writes `events` ItemAdded events spread over carts; returns the last position. */
export async function writeLog(store: EventStore, events: number): Promise<bigint> {
  let last = 0n;
  for (let written = 0; written < events; written += BATCH) {
    const n = Math.min(BATCH, events - written);
    // Appended in batches so setting up stays fast; the projection sees single events.
    const cart = `cart-${(written / BATCH) % CARTS}`;
    const r = await store.appendToStream(cart, Array.from({ length: n }, (_, i) => ({ type: 'ItemAdded', data: { sku: `S${i % 7}`, qty: 1 + (i % 3), price: 250 } })));
    last = r.lastGlobalPosition;
  }
  return last;
}

/**
 * Resolves when the batch reaching `last` has committed: the projector's own event, so the measurement
 * neither polls the checkpoint (load on the same database) nor waits up to a poll interval past the end.
 */
export function caughtUp(projector: Projector, last: bigint): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not caught up with ${last} after 10 minutes`)), 600_000);
    projector.events.on('batch', (b: { position: bigint }) => {
      if (b.position < last) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Rows of paths whose `times[i]` all come from run i; the last path is raw. Ratios are medians of
 * per-run ratios, so a slow moment of a shared machine lands on both sides of a ratio instead of one.
 */
export function summarize(events: number, paths: Array<{ name: string; times: Timing[] }>): ProjectionBenchRow[] {
  const raw = paths[paths.length - 1]!.times;
  return paths.map(({ name, times }) => {
    const rates = times.map((t) => (events / t.ms) * 1000);
    return {
      path: name,
      events,
      medianEventsPerSec: Math.round(median(rates)),
      bestEventsPerSec: Math.round(Math.max(...rates)),
      medianCpuMicrosPerEvent: Number(((median(times.map((t) => t.cpuMs)) * 1000) / events).toFixed(2)),
      ratio: Number(median(times.map((t, i) => raw[i]!.ms / t.ms)).toFixed(2)),
      cpuRatio: Number(median(times.map((t, i) => raw[i]!.cpuMs / t.cpuMs)).toFixed(2)),
    };
  });
}

/** Prints rows as a markdown table; `cpu` adds the CPU columns (meaningless when a server does the work). */
export function printTable(rows: ProjectionBenchRow[], title: string, cpu: boolean): void {
  console.log(`\n${title}`);
  console.log(`| path | median events/s | best events/s | × raw (median of runs) |${cpu ? ' CPU µs/event | × raw in CPU |' : ''}`);
  console.log(`|---|---:|---:|---:|${cpu ? '---:|---:|' : ''}`);
  for (const r of rows) {
    const cpuCells = cpu ? ` ${r.medianCpuMicrosPerEvent} | ${r.cpuRatio.toFixed(2)} |` : '';
    console.log(`| ${r.path} | ${r.medianEventsPerSec} | ${r.bestEventsPerSec} | ${r.ratio.toFixed(2)} |${cpuCells}`);
  }
}
