/**
 * Interleaved A/B of sequential 3-step sagas on SQLite (tuning aid): Tessera's engine with and without lifecycle
 * events, and the floor of any engine on its schema (`rawSqliteSchemaTarget`, with and without the events), against
 * the raw better-sqlite3 row of `bench/saga-targets.ts` (the same commits), in one process. Prints
 * the median per-round ratio (Tessera sagas/s ÷ raw sagas/s) by wall time and by CPU time (steadier on a shared
 * machine), and each row's median rate:
 *   npx tsx bench/profile/saga-sqlite-ab.ts [rounds] [sagasPerRound] [otherCheckout]
 * With `otherCheckout` (e.g. `git archive <commit> | tar -x -C /tmp/base`, node_modules linked in), that tree's engine
 * rows (`base`, `base-q`) run interleaved in the same process too: a same-run A/B of two commits.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { rawSqliteSchemaTarget, rawSqliteTarget, type SagaTarget, tesseraTarget } from '../saga-targets.js';

const rounds = Number(process.argv[2] ?? 30);
const per = Number(process.argv[3] ?? 100);
const rows: [string, SagaTarget][] = [
  ['tessera', await tesseraTarget('sqlite', true, '', 3)],
  ['quiet', await tesseraTarget('sqlite', false, '', 3)],
  ['floor', await rawSqliteSchemaTarget(true)],
  ['floor-q', await rawSqliteSchemaTarget(false)],
  ['raw', await rawSqliteTarget()],
];
const COMPARED = ['tessera', 'quiet', 'floor', 'floor-q'];
const other = process.argv[4];
if (other !== undefined) {
  const base = (await import(pathToFileURL(resolve(other, 'bench/saga-targets.ts')).href)) as { tesseraTarget: typeof tesseraTarget };
  rows.unshift(['base', await base.tesseraTarget('sqlite', true, '', 3)], ['base-q', await base.tesseraTarget('sqlite', false, '', 3)]);
  COMPARED.unshift('base', 'base-q');
}
let n = 0;
const ids = (k: number): string[] => Array.from({ length: k }, () => `s${n++}`);
for (const [, t] of rows) await t.run(ids(200), 3, 1);

async function time(t: SagaTarget): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await t.run(ids(per), 3, 1);
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - t0, cpu: cpu.user + cpu.system };
}

const ratios: Record<string, { wall: number[]; cpu: number[] }> = Object.fromEntries(COMPARED.map((k) => [k, { wall: [], cpu: [] }]));
const rates: Record<string, number[]> = Object.fromEntries(rows.map(([k]) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? rows : [...rows].reverse();
  const m: Record<string, { wall: number; cpu: number }> = {};
  for (const [name, t] of order) m[name] = await time(t);
  for (const name of COMPARED) {
    ratios[name]!.wall.push(m.raw!.wall / m[name]!.wall);
    ratios[name]!.cpu.push(m.raw!.cpu / m[name]!.cpu);
  }
  for (const name of Object.keys(rates)) rates[name]!.push(per / (m[name]!.wall / 1000));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)]!;
for (const name of COMPARED) {
  const w = ratios[name]!.wall;
  console.log(`${name.padEnd(8)} / raw (${rounds} rounds x ${per} sagas): wall ${median(w).toFixed(3)}x (quartiles ${q(w, 0.25).toFixed(2)}-${q(w, 0.75).toFixed(2)}), cpu ${median(ratios[name]!.cpu).toFixed(3)}x`);
}
for (const [name, r] of Object.entries(rates)) console.log(`${name.padEnd(8)} ${median(r).toFixed(0)} sagas/s median`);
for (const [, t] of rows) await t.close();
