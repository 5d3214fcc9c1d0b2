/** Micro-comparison of ways to fetch a 1,000-event stream from Tessera's table (tuning aid). */
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openSqliteEventStore } from '../../src/index.js';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';

const file = tempFile('read.db');
const store = await openSqliteEventStore({ path: file.path });
await store.appendToStream('s', Array.from({ length: 1000 }, (_, i) => ({ type: EVENT_TYPE, data: eventData(i) })));
await store.close();
const db = new Database(file.path);
const ALL = 'global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at';
const NOSTREAM = 'global_position, event_id, stream_version, event_type, data, metadata, schema_version, recorded_at';
const q = (cols: string) => `SELECT ${cols} FROM tessera_events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version ASC LIMIT ?`;
const safeAll = db.prepare(q(ALL)).safeIntegers(true);
const safeNo = db.prepare(q(NOSTREAM)).safeIntegers(true);
const fastNo = db.prepare(q(NOSTREAM));
const fastRaw = db.prepare(q(NOSTREAM)).raw(true);
const rawMin = db.prepare('SELECT global_position, stream_version, event_type, data FROM tessera_events WHERE stream_id = ? ORDER BY stream_version');
type R = Record<string, unknown>;
const variants: Record<string, () => number> = {
  'current (safe, 9 cols)': () => safeAll.all('s', 1n, -1).map((r) => { const x = r as R; return { p: x.global_position, v: x.stream_version, d: JSON.parse(x.data as string), t: new Date(Number(x.recorded_at)), s: Number(x.schema_version), id: x.event_id, ty: x.event_type, sid: x.stream_id }; }).length,
  'safe, no stream_id': () => safeNo.all('s', 1n, -1).map((r) => { const x = r as R; return { p: x.global_position, v: x.stream_version, d: JSON.parse(x.data as string), t: new Date(Number(x.recorded_at)), s: Number(x.schema_version), id: x.event_id, ty: x.event_type, sid: 's' }; }).length,
  'numbers+BigInt(), no stream_id': () => fastNo.all('s', 1, -1).map((r) => { const x = r as R; return { p: BigInt(x.global_position as number), v: BigInt(x.stream_version as number), d: JSON.parse(x.data as string), t: new Date(x.recorded_at as number), s: x.schema_version, id: x.event_id, ty: x.event_type, sid: 's' }; }).length,
  'raw arrays+BigInt()': () => (fastRaw.all('s', 1, -1) as unknown[][]).map((x) => ({ p: BigInt(x[0] as number), v: BigInt(x[2] as number), d: JSON.parse(x[4] as string), t: new Date(x[7] as number), s: x[6], id: x[1], ty: x[3], sid: 's' })).length,
  'raw minimum (bench raw row)': () => { let n = 0; for (const r of rawMin.all('s') as R[]) if (JSON.parse(r.data as string) !== null) n++; return n; },
};
const us: Record<string, number[]> = {};
for (let round = 0; round < 30; round++) {
  for (const [name, fn] of Object.entries(variants)) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) fn();
    (us[name] ??= []).push(((performance.now() - t) * 1000) / 10_000);
  }
}
for (const [name, xs] of Object.entries(us)) console.log(name.padEnd(32), xs.sort((a, b) => a - b)[15]!.toFixed(2), 'µs/event');
db.close();
file.remove();
