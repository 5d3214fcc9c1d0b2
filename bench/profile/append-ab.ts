/**
 * Interleaved A/B timing of the SQLite append and read paths (for tuning; not part of `npm run bench`).
 *   npx tsx bench/profile/append-ab.ts [FULL|NORMAL] [rounds] [appendsPerRound]
 * Prints the median µs per operation of each variant; rounds alternate so machine noise hits all alike.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { openSqliteEventStore } from '../../src/index.js';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';
import { rawSqliteRow, tesseraSqliteRow } from '../targets/sqlite.js';
import type { Target } from '../types.js';

const durability = (process.argv[2] ?? 'FULL') as 'FULL' | 'NORMAL';
const rounds = Number(process.argv[3] ?? 15);
const perRound = Number(process.argv[4] ?? 300);

/** Raw better-sqlite3 on Tessera's own table (event_id index, uuid ids, all columns): the schema's share of the cost. */
async function rawOnTesseraSchema(): Promise<Target> {
  const file = tempFile('schema.db');
  await (await openSqliteEventStore({ path: file.path })).close();
  const db = new Database(file.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability}`);
  const version = db.prepare('SELECT stream_version FROM tessera_events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1').pluck();
  const insert = db.prepare('INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const append = db.transaction((s: string, datas: string[]) => {
    const current = (version.get(s) as number | undefined) ?? 0;
    for (let i = 0; i < datas.length; i++) insert.run(randomUUID(), s, current + i + 1, EVENT_TYPE, datas[i], null, 1, Date.now());
  }).immediate;
  return {
    appendNew: async (s) => append(s, [JSON.stringify(eventData(0))]),
    appendExpected: async (s, v) => append(s, [JSON.stringify(eventData(Number(v)))]),
    appendBatch: async (s, n) => append(s, Array.from({ length: n }, (_, i) => JSON.stringify(eventData(i)))),
    read: async () => 0,
    close: async () => (db.close(), file.remove()),
  };
}

/** The same target with one setImmediate hop before each append (what group commit adds for a lone caller). */
function withHop(t: Target): Target {
  const hop = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { ...t, appendNew: async (s) => (await hop(), t.appendNew(s)), appendExpected: async (s, v) => (await hop(), t.appendExpected(s, v)) };
}

const variants: [string, Target][] = [
  ['raw', await rawSqliteRow(durability).open()],
  ['raw-tschema', await rawOnTesseraSchema()],
  ['raw-tschema+hop', withHop(await rawOnTesseraSchema())],
  ['tessera', await tesseraSqliteRow(durability).open()],
];
const ops: Record<string, (t: Target, round: number) => Promise<number>> = {
  'append new stream': async (t, r) => {
    for (let i = 0; i < perRound; i++) await t.appendNew(`a-${r}-${i}`);
    return perRound;
  },
  'append expected': async (t, r) => {
    for (let i = 0; i < perRound; i++) await t.appendExpected(`b-${r}`, BigInt(i));
    return perRound;
  },
  'batch 1000 (per event)': async (t, r) => {
    await t.appendBatch(`c-${r}`, 1000);
    return 1000;
  },
  'read 1000 (per event)': async (t) => {
    for (let i = 0; i < 5; i++) await t.read('c-0');
    return 5000;
  },
};
const us: Record<string, number[]> = {};
for (const [name] of variants) for (const op of Object.keys(ops)) us[`${op} | ${name}`] = [];
for (let r = 0; r < rounds; r++) {
  for (const [op, fn] of Object.entries(ops)) {
    for (const [name, t] of r % 2 ? [...variants].reverse() : variants) {
      // CPU time, not wall time, when TESSERA_AB_CPU is set: steadier on a machine shared with other work.
      const cpu = process.cpuUsage();
      const start = performance.now();
      const n = await fn(t, r);
      const spent = process.env.TESSERA_AB_CPU ? (({ user, system }) => (user + system) / 1000)(process.cpuUsage(cpu)) : performance.now() - start;
      us[`${op} | ${name}`]!.push((spent * 1000) / n);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const op of Object.keys(ops)) {
  const raw = median(us[`${op} | raw`]!);
  const line = variants.map(([name]) => `${name} ${median(us[`${op} | ${name}`]!).toFixed(1)}µs`).join('  ');
  console.log(`${op.padEnd(24)} ${line}  ratio(raw/tessera) ${(raw / median(us[`${op} | tessera`]!)).toFixed(2)}`);
}
for (const [, t] of variants) await t.close();
