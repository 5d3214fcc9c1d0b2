import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PgPartitionManager, readArchive, SqliteSegments } from '../../src/partitioning/index.js';
import { openPostgres } from '../../src/storage/postgres.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

const DAY = 86_400_000;
const tmp = tempDir('tessera-cli-partitions-');
const schemas: string[] = [];
afterAll(async () => {
  tmp.remove();
  await dropSchemas(schemas);
});

describe('tessera partitions', () => {
  it('lists SQLite segments and archives the expired ones (JSON lines)', { timeout: 60_000 }, async () => {
    const dir = join(tmp.dir, 'seg');
    const segments = new SqliteSegments({ dir, name: 'metrics', interval: 'day', setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS m (at INTEGER, v REAL)') });
    for (let d = -4; d <= 0; d++) await (await segments.segmentFor(Date.now() + d * DAY)).run('INSERT INTO m VALUES (?, ?)', [d, d / 2]);
    await segments.close();
    const db = join(tmp.dir, 'unused.db');
    const list = await runCli(db, ['partitions', 'list', 'metrics', '--segments', dir, '--json']);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(5);
    const archive = join(tmp.dir, 'old.jsonl');
    const run = await runCli(db, ['partitions', 'apply-retention', 'metrics', '--segments', dir, '--older-than', '2d', '--archive', archive, '--json']);
    expect(run.code).toBe(0);
    const retired = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rows: number; action: string });
    expect(retired.map((r) => [r.rows, r.action])).toEqual([[1, 'archived'], [1, 'archived']]);
    expect((await readArchive(archive)).map((s) => s.rows)).toEqual([[['-4', '-2.0']], [['-3', '-1.5']]]);
    const again = await runCli(db, ['partitions', 'list', 'metrics', '--segments', dir, '--json']);
    expect(again.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('applies retention to a PostgreSQL partitioned table; refuses bad options with exit code 1', { timeout: 60_000 }, async () => {
    const schema = freshSchemaName('cliparts');
    schemas.push(schema);
    const pg = openPostgres({ connectionString: TEST_PG_URL, maxConnections: 2 });
    const pm = new PgPartitionManager(pg, { schema });
    await pm.createPartitionedTable('samples', 'at timestamptz NOT NULL, v int', { kind: 'range', column: 'at' });
    await pm.ensureTimePartitions('samples', { interval: 'day', behind: 4, ahead: 1 });
    await pg.run(`INSERT INTO "${schema}".samples VALUES (now() - interval '4 days', 1), (now(), 2)`);
    await pg.close();
    const url = TEST_PG_URL;
    const listed = await runCli(url, ['--schema', schema, 'partitions', 'list', 'samples']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim().split('\n')).toHaveLength(2 + 6);
    const run = await runCli(url, ['--schema', schema, 'partitions', 'apply-retention', 'samples', '--older-than', '2d', '--drop', '--json']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['dropped', 'dropped']);
    const both = await runCli(url, ['--schema', schema, 'partitions', 'apply-retention', 'samples', '--older-than', '2d', '--drop', '--detach']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('Choose exactly one');
    const sqlite = await runCli(join(tmp.dir, 'x.db'), ['partitions', 'list', 'samples']);
    expect(sqlite.code).toBe(1);
  });
});
