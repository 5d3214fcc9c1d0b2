import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../src/index.js';
import { readArchive } from '../../src/partitioning/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

const DAY = 86_400_000;
const tmp = tempDir('tessera-cli-events-partitions-');
const schemas: string[] = [];
afterAll(async () => {
  tmp.remove();
  await dropSchemas(schemas);
});

const dayName = (ms: number): string => `events_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;

describe('tessera partitions on a partitioned event store', () => {
  it('lists the events partitions and archives the expired one; refuses the current one', { timeout: 60_000 }, async () => {
    const schema = freshSchemaName('clievp');
    schemas.push(schema);
    let now = Date.now() - 3 * DAY;
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, maxConnections: 2, clock: { now: () => now }, partitioning: { interval: 'day', ahead: 3 } });
    await store.appendToStream('s', [{ type: 'Old', data: { n: 1 } }]);
    now += 3 * DAY;
    await store.appendToStream('s', [{ type: 'New', data: { n: 2 } }]);
    await store.close();

    const listed = await runCli(TEST_PG_URL, ['--schema', schema, 'partitions', 'list', 'events', '--json']);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; size: string });
    expect(rows.filter((r) => r.size === '1 rows').map((r) => r.name)).toEqual([dayName(now - 3 * DAY), dayName(now)]);

    const archive = join(tmp.dir, 'events.jsonl');
    const run = await runCli(TEST_PG_URL, ['--schema', schema, 'partitions', 'apply-retention', 'events', '--older-than', '2d', '--archive', archive, '--json']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: string; rows: number })).toEqual([
      expect.objectContaining({ partition: dayName(now - 3 * DAY), rows: 1, action: 'archived' }),
    ]);
    const [section] = await readArchive(archive);
    expect(section!.rows.map((r) => r[section!.columns.findIndex((c) => c.name === 'event_type')])).toEqual(['Old']);

    const current = await runCli(TEST_PG_URL, ['--schema', schema, 'partitions', 'apply-retention', 'events', '--partition', dayName(now), '--drop']);
    expect(current.code).toBe(1);
    expect(current.stderr).toContain('holds the current time');
  });
});
