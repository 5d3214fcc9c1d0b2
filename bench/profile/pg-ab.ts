/**
 * Interleaved A/B of Tessera PG against raw pg on one workload (for tuning; not part of `npm run bench`).
 *   npx tsx bench/profile/pg-ab.ts [a|b|e] [rounds]
 * Prints each round's events/s and the median of the per-round ratios (rounds alternate the order).
 */
import { performance } from 'node:perf_hooks';
import { QUICK } from '../sizes.js';
import { dropBenchDatabase } from '../targets/pg-admin.js';
import { rawPgRow, tesseraPgRow } from '../targets/pg.js';
import type { RowSpec, WorkloadId } from '../types.js';
import { prepare, runOnce } from '../workloads.js';

const workload = (process.argv[2] ?? 'e') as WorkloadId;
const rounds = Number(process.argv[3] ?? 5);
const sizes = QUICK;

async function measure(row: RowSpec, rep: number): Promise<number> {
  const t = await row.open();
  try {
    await prepare(workload, t, sizes);
    const start = performance.now();
    const n = await runOnce(workload, t, sizes, rep);
    return n / ((performance.now() - start) / 1000);
  } finally {
    await t.close();
  }
}

const rows = [tesseraPgRow(), rawPgRow()];
const ratios: number[] = [];
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? rows : [...rows].reverse();
    const rates = new Map<string, number>();
    for (const row of order) rates.set(row.id, await measure(row, r));
    const ratio = rates.get('tessera-pg')! / rates.get('raw-pg')!;
    ratios.push(ratio);
    console.log(`round ${r}: tessera ${Math.round(rates.get('tessera-pg')!)} ev/s, raw ${Math.round(rates.get('raw-pg')!)} ev/s, ${ratio.toFixed(2)}x`);
  }
} finally {
  await dropBenchDatabase();
}
ratios.sort((x, y) => x - y);
console.log(`(${workload}) median ratio ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}x over ${rounds} rounds`);
