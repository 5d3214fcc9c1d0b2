import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { killAllChildren, REPO_ROOT, sleep, spawnTsx } from '../support/processes.js';

const GROUP = 8;
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

describe('PostgreSQL group commit: the writer killed before the shared COMMIT', () => {
  afterEach(async () => {
    await killAllChildren();
  });

  // The parent holds the advisory lock of one stream of the group, so the group's statement waits inside its
  // transaction (holding the locks of the streams sorted before it). Then the writer gets SIGKILL. Either the
  // server ends the orphaned transaction (terminated: nothing stored), or it runs on once the lock is free
  // (released: the server may commit what nobody was told about, but only the whole group).
  it.each(['terminated', 'released'] as const)('acknowledges none of the group and stores it whole or not at all (orphan %s)', async (orphan) => {
    const schema = freshSchemaName('gcrash');
    schemas.push(schema);
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, readWaitMs: 2_000 });
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`${schema}:group-3`]);
      const child = spawnTsx(join(REPO_ROOT, 'test/postgres/fixtures/pg-group-crash.ts'), [TEST_PG_URL, schema, String(GROUP)], { name: 'pg-group-crash' });
      await child.waitForLine((l) => l === 'fired', 60_000);
      // The child's one group statement, waiting for the lock inside its transaction.
      const pid = await until(async () => {
        const res = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE $1`,
          [`%"${schema}".append_events_group(%`],
        );
        return res.rows.length === 1 ? res.rows[0]!.pid : undefined;
      });
      const exit = await child.kill9();
      expect(exit.signal).toBe('SIGKILL');
      expect(child.lines).toContain('seeded');
      expect(child.lines.filter((l) => l.startsWith('acked ') || l.startsWith('failed '))).toEqual([]);

      if (orphan === 'terminated') await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`${schema}:group-3`]);
      await until(async () => {
        const res = await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid]);
        return res.rows.length === 0 ? true : undefined;
      });

      // Straight from the table: readAll stops below the oldest running transaction of the shared server.
      const all = (
        await admin.query<{ stream_id: string; global_position: string }>(`SELECT stream_id, global_position::text FROM "${schema}".events ORDER BY global_position`)
      ).rows.map((r) => ({ streamId: r.stream_id, globalPosition: BigInt(r.global_position) }));
      const grouped = all.filter((e) => e.streamId.startsWith('group-'));
      if (orphan === 'terminated') expect(grouped).toEqual([]);
      expect([0, GROUP]).toContain(grouped.length);
      expect(all[0]!.streamId).toBe('seed');
      // A stored group is one transaction: the same xid in every position, after the seed's.
      expect(new Set(grouped.map((e) => e.globalPosition >> 16n)).size).toBeLessThanOrEqual(1);
      for (const e of grouped) expect(e.globalPosition).toBeGreaterThan(all[0]!.globalPosition);

      // The store goes on: each group stream is either whole (version 1) or free.
      for (let i = 0; i < GROUP; i++) {
        const stored = grouped.length === GROUP;
        const r = await store.appendToStream(`group-${i}`, [{ type: 'After', data: { i } }], { expectedVersion: stored ? 1n : 'no_stream' });
        expect(r.nextExpectedVersion).toBe(stored ? 2n : 1n);
      }
      console.log('[pg-group-kill]', JSON.stringify({ orphan, storedOfGroup: grouped.length }));
    } finally {
      await admin.end();
      await store.close();
      await killAllChildren();
    }
  }, 120_000);
});
