import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { NotPartitionedError, OverlappingPartitionError, RetentionRefusedError } from '../../src/index.js';
import { PgPartitionManager, readArchive } from '../../src/partitioning/index.js';
import { openPostgres, type PostgresDatabase } from '../../src/storage/postgres.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 25, 12);
const TODAY = Date.UTC(2026, 10, 25);
const dayName = (offset: number): string => `metrics_p${new Date(TODAY + offset * DAY).toISOString().slice(0, 10).replaceAll('-', '')}`;

let db: PostgresDatabase;
let schema: string;
let tmp: ReturnType<typeof tempDir>;
afterEach(async () => {
  await db.close();
  await dropSchemas([schema]);
  tmp.remove();
});

async function setup(): Promise<PgPartitionManager> {
  schema = freshSchemaName('parts');
  tmp = tempDir('tessera-parts-');
  db = openPostgres({ connectionString: TEST_PG_URL, maxConnections: 3 });
  const pm = new PgPartitionManager(db, { schema, clock: { now: () => NOW } });
  await pm.createPartitionedTable('metrics', 'id bigint NOT NULL, at timestamptz NOT NULL, payload jsonb, note text', { kind: 'range', column: 'at' });
  return pm;
}

async function rowsOf(partition: string): Promise<string[][]> {
  const rows = await db.query<Record<string, string | null>>(`SELECT id::text AS a, at::text AS b, payload::text AS c, note::text AS d FROM "${schema}"."${partition}" ORDER BY ctid`);
  return rows.map((r) => [r.a!, r.b!, r.c ?? null, r.d ?? null] as string[]);
}

describe('PostgreSQL partition manager', () => {
  it('creates time partitions ahead, routes rows, and archives exactly the expired ones', async () => {
    const pm = await setup();
    const created = await pm.ensureTimePartitions('metrics', { interval: 'day', ahead: 2, behind: 5 });
    expect(created).toEqual([-5, -4, -3, -2, -1, 0, 1, 2].map(dayName));
    expect(await pm.ensureTimePartitions('metrics', { interval: 'day', ahead: 2, behind: 5 })).toEqual([]);
    let id = 0;
    for (let d = -5; d <= 2; d++) {
      for (let h = 0; h < 24; h += 5) {
        const note = h === 0 ? null : `it's "day" ${d}\n`;
        await db.run(`INSERT INTO "${schema}".metrics VALUES (?, ?, ?, ?)`, [++id, new Date(TODAY + d * DAY + h * 3_600_000).toISOString(), JSON.stringify({ d, h, big: '9007199254740993' }), note]);
      }
    }
    const routed = await db.query<{ part: string; n: unknown }>(`SELECT tableoid::regclass::text AS part, count(*) AS n, min(at) AS lo FROM "${schema}".metrics GROUP BY 1 ORDER BY 3`);
    expect(routed.map((r) => [r.part.split('.').pop(), Number(r.n)])).toEqual([-5, -4, -3, -2, -1, 0, 1, 2].map((d) => [dayName(d), 5]));
    const list = await pm.listPartitions('metrics');
    expect(list.map((p) => [p.name, p.from?.getTime(), p.to?.getTime()])).toEqual([-5, -4, -3, -2, -1, 0, 1, 2].map((d) => [dayName(d), TODAY + d * DAY, TODAY + (d + 1) * DAY]));

    const expired = [dayName(-5), dayName(-4)];
    const before = await Promise.all(expired.map(rowsOf));
    const progress: string[] = [];
    const path = join(tmp.dir, 'metrics.jsonl');
    const retired = await pm.applyRetention('metrics', { olderThanMs: 3 * DAY, action: 'archive', archive: { format: 'jsonl', path }, onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
    expect(retired.map((r) => [r.partition, r.rows, r.action])).toEqual(expired.map((n) => [n, 5, 'archived']));
    expect(progress).toEqual(['1/2', '2/2']);
    const archive = await readArchive(path);
    expect(archive.map((s) => [s.partition, s.complete, s.columns.map((c) => c.name)])).toEqual(expired.map((n) => [n, true, ['id', 'at', 'payload', 'note']]));
    expect(archive.map((s) => s.rows)).toEqual(before);
    expect((await pm.listPartitions('metrics')).map((p) => p.name)).toEqual([-3, -2, -1, 0, 1, 2].map(dayName));
    const [left] = await db.query<{ n: unknown }>(`SELECT count(*) AS n FROM "${schema}".metrics`);
    expect(Number(left!.n)).toBe(30);

    // The same policy again has nothing left to do; a named partition can go to a SQLite archive.
    expect(await pm.applyRetention('metrics', { olderThanMs: 3 * DAY, action: 'drop' })).toEqual([]);
    const third = await rowsOf(dayName(-3));
    const sqlitePath = join(tmp.dir, 'metrics.db');
    await pm.applyRetention('metrics', { partitions: [dayName(-3)], action: 'archive', archive: { format: 'sqlite', path: sqlitePath } });
    const [section] = await readArchive(sqlitePath);
    expect(section).toMatchObject({ partition: dayName(-3), source: `${schema}.metrics`, complete: true });
    expect(section!.rows).toEqual(third);
  });

  it('refuses overlapping definitions and retiring the current partition, changing nothing', async () => {
    const pm = await setup();
    await pm.ensureTimePartitions('metrics', { interval: 'day', ahead: 1 });
    await expect(pm.ensureTimePartitions('metrics', { interval: 'week', ahead: 1 })).rejects.toBeInstanceOf(OverlappingPartitionError);
    await expect(pm.applyRetention('metrics', { partitions: [dayName(0)], action: 'drop' })).rejects.toBeInstanceOf(RetentionRefusedError);
    expect((await pm.listPartitions('metrics')).map((p) => p.name)).toEqual([dayName(0), dayName(1)]);
    await expect(pm.ensureTimePartitions('metrics', { interval: 'day', ahead: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(pm.applyRetention('metrics', { olderThanMs: 0, action: 'drop' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(pm.applyRetention('metrics', { olderThanMs: DAY, action: 'archive' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(pm.listPartitions('no_such_table')).rejects.toBeInstanceOf(NotPartitionedError);
  });

  it('list partitions by category: values routed, shared values refused, a category detached', async () => {
    const pm = await setup();
    await pm.createPartitionedTable('by_cat', 'id bigint, category text NOT NULL, body text', { kind: 'list', column: 'category' });
    await pm.addListPartition('by_cat', 'cat_orders', ['orders']);
    await pm.addListPartition('by_cat', 'cat_money', ['payments', "refund's"]);
    await expect(pm.addListPartition('by_cat', 'cat_x', ['shipping', "refund's"])).rejects.toBeInstanceOf(OverlappingPartitionError);
    await expect(pm.ensureTimePartitions('by_cat', { interval: 'day' })).rejects.toBeInstanceOf(NotPartitionedError);
    for (const [i, c] of ['orders', 'payments', "refund's", 'orders'].entries()) await db.run(`INSERT INTO "${schema}".by_cat VALUES (?, ?, ?)`, [i, c, 'x']);
    const list = await pm.listPartitions('by_cat');
    expect(list.map((p) => [p.name, p.kind, p.values])).toEqual([['cat_money', 'list', ['payments', "refund's"]], ['cat_orders', 'list', ['orders']]]);
    expect(await pm.countRows('cat_orders')).toBe(2);
    const retired = await pm.applyRetention('by_cat', { partitions: ['cat_orders'], action: 'detach' });
    expect(retired).toMatchObject([{ partition: 'cat_orders', rows: 2, action: 'detached' }]);
    expect((await pm.listPartitions('by_cat')).map((p) => p.name)).toEqual(['cat_money']);
    expect(await pm.countRows('cat_orders')).toBe(2); // kept as a plain table
  });
});
