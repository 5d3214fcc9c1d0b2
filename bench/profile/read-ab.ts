/**
 * Interleaved A/B of workload (d): Tessera's `readStream` of a 1,000-event stream against the raw better-sqlite3
 * row, in one process (tuning aid). Prints the median per-round ratio (Tessera events/s ÷ raw events/s) by wall
 * time and by CPU time, which is steadier on a shared machine:
 *   npx tsx bench/profile/read-ab.ts [rounds] [readsPerRound]
 */
import { performance } from 'node:perf_hooks';
import { rawSqliteRow, tesseraSqliteRow } from '../targets/sqlite.js';
import type { Target } from '../types.js';

const rounds = Number(process.argv[2] ?? 60);
const reads = Number(process.argv[3] ?? 20);
const rows: [string, Target][] = [
  ['tessera', await tesseraSqliteRow('FULL').open()],
  ['raw', await rawSqliteRow('FULL').open()],
];
for (const [, t] of rows) {
  await t.appendBatch('r', 1000);
  for (let i = 0; i < 50; i++) await t.read('r');
}

async function time(t: Target): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reads; i++) await t.read('r');
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - t0, cpu: cpu.user + cpu.system };
}

const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? rows : [...rows].reverse();
  const m: Record<string, { wall: number; cpu: number }> = {};
  for (const [name, t] of order) m[name] = await time(t);
  wall.push(m.raw!.wall / m.tessera!.wall);
  cpu.push(m.raw!.cpu / m.tessera!.cpu);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`Tessera / raw (read 1,000 events, ${rounds} rounds x ${reads} reads): wall ${median(wall).toFixed(3)}x, cpu ${median(cpu).toFixed(3)}x`);
for (const [, t] of rows) await t.close();
