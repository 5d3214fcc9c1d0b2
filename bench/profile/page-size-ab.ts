/**
 * What the page size does to a durable single append (for tuning; not part of `npm run bench`):
 *   npx tsx bench/profile/page-size-ab.ts [rounds] [appendsPerRound]
 * Raw better-sqlite3 appends on Tessera's table (unique event id) in WAL + synchronous FULL, one file per page
 * size; rounds interleave the files and the median µs per append is printed.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { SQLITE_EVENTSTORE_MIGRATIONS } from '../../src/eventstore/sqlite/schema.js';
import { EVENT_TYPE, eventData, tempFile } from '../payload.js';

const rounds = Number(process.argv[2] ?? 9);
const perRound = Number(process.argv[3] ?? 300);
const sizes = [512, 1024, 2048, 4096];

const targets = sizes.map((size) => {
  const file = tempFile(`page-${size}.db`);
  const db = new Database(file.path);
  db.pragma(`page_size = ${size}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(SQLITE_EVENTSTORE_MIGRATIONS[0]!.sql);
  const version = db.prepare('SELECT stream_version FROM tessera_events WHERE stream_id = ? ORDER BY stream_version DESC LIMIT 1').pluck();
  const insert = db.prepare('INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const append = db.transaction((s: string) => {
    const current = (version.get(s) as number | undefined) ?? 0;
    insert.run(randomUUID(), s, current + 1, EVENT_TYPE, JSON.stringify(eventData(current)), null, 1, Date.now());
  }).immediate;
  return { size, db, file, append, us: [] as number[] };
});
for (let r = 0; r < rounds; r++) {
  for (const t of r % 2 ? [...targets].reverse() : targets) {
    const start = performance.now();
    for (let i = 0; i < perRound; i++) t.append(`s-${r}-${i}`);
    t.us.push(((performance.now() - start) * 1000) / perRound);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const t of targets) {
  console.log(`page_size ${String(t.size).padStart(4)}: ${median(t.us).toFixed(1)} µs per append (${(median(targets[3]!.us) / median(t.us)).toFixed(2)}x of 4096's rate)`);
  t.db.close();
  t.file.remove();
}
