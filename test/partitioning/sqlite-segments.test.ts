import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionRefusedError } from '../../src/index.js';
import { readArchive, SqliteSegments } from '../../src/partitioning/index.js';
import { tempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 25, 12);
let tmp: ReturnType<typeof tempDir>;
let segments: SqliteSegments;
afterEach(async () => {
  await segments.close();
  tmp.remove();
});

function open(now = NOW): SqliteSegments {
  return new SqliteSegments({
    dir: join(tmp.dir, 'seg'), name: 'metrics', interval: 'day', clock: { now: () => now },
    setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, v REAL, note TEXT)'),
  });
}

describe('SQLite segment files by time', () => {
  it('creates segments ahead, writes each row to its day, and archives exactly the expired ones', async () => {
    tmp = tempDir('tessera-seg-');
    segments = open();
    expect(await segments.ensureAhead(2, 0)).toEqual(['metrics_20261125', 'metrics_20261126', 'metrics_20261127']);
    const written = new Map<string, string[][]>();
    for (let d = -4; d <= 0; d++) {
      for (let i = 0; i < 7; i++) {
        const at = NOW + d * DAY + i * 1000;
        const db = await segments.segmentFor(at);
        const note = i === 0 ? null : `d${d} 'q'`;
        await db.run('INSERT INTO m (at, v, note) VALUES (?, ?, ?)', [at, i / 3, note]);
        const day = `metrics_${new Date(at).toISOString().slice(0, 10).replaceAll('-', '')}`;
        const [row] = await db.query<{ id: number; v: number }>('SELECT id, CAST(v AS TEXT) AS v FROM m WHERE at = ?', [at]);
        written.set(day, [...(written.get(day) ?? []), [String(row!.id), String(at), String(row!.v), note] as string[]]);
      }
    }
    const listed = await segments.list();
    expect(listed.map((s) => s.name)).toEqual(['metrics_20261121', 'metrics_20261122', 'metrics_20261123', 'metrics_20261124', 'metrics_20261125', 'metrics_20261126', 'metrics_20261127']);
    await expect(segments.applyRetention({ partitions: ['metrics_20261125'], action: 'drop' })).rejects.toBeInstanceOf(RetentionRefusedError);
    const path = join(tmp.dir, 'old.jsonl');
    const retired = await segments.applyRetention({ olderThanMs: 2 * DAY, action: 'archive', archive: { format: 'jsonl', path } });
    expect(retired.map((r) => [r.partition, r.rows])).toEqual([['metrics_20261121', 7], ['metrics_20261122', 7]]);
    expect(existsSync(listed[0]!.path)).toBe(false);
    const archive = await readArchive(path);
    expect(archive.map((s) => s.partition)).toEqual(['metrics_20261121.m', 'metrics_20261122.m']);
    expect(archive.map((s) => s.rows)).toEqual([written.get('metrics_20261121'), written.get('metrics_20261122')]);
    const sqlitePath = join(tmp.dir, 'old.db');
    await segments.applyRetention({ partitions: ['metrics_20261123'], action: 'archive', archive: { format: 'sqlite', path: sqlitePath } });
    expect((await readArchive(sqlitePath)).map((s) => [s.partition, s.rows])).toEqual([['metrics_20261123.m', written.get('metrics_20261123')]]);
    expect((await segments.list()).map((s) => s.name)).toEqual(['metrics_20261124', 'metrics_20261125', 'metrics_20261126', 'metrics_20261127']);
    await expect(segments.applyRetention({ olderThanMs: DAY, action: 'detach' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
