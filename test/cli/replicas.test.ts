import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresEventStore } from '../../src/eventstore/postgres/open.js';
import { openSqliteEventStore } from '../../src/eventstore/sqlite/open.js';
import { storeDatabase } from '../../src/eventstore/store.js';
import { type PgCluster, startPgCluster } from '../support/pg-cluster.js';
import { type PgReplica, startPgReplica, waitForReplay } from '../support/pg-replica.js';
import { freshSchemaName } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

describe('tessera replicas', () => {
  let primary: PgCluster;
  let r1: PgReplica;
  const schema = freshSchemaName('cli_rs');
  const tmp = tempDir('tessera-cli-rs-');

  beforeAll(async () => {
    primary = await startPgCluster();
    r1 = await startPgReplica(primary, 'r1');
    const store = await openPostgresEventStore({ connectionString: primary.url, schema });
    for (let i = 0; i < 30; i++) await store.appendToStream(`s-${i % 4}`, [{ type: 'T', data: { i } }]);
    await store.close();
    await waitForReplay(primary.url, [r1]);
  }, 60_000);

  afterAll(async () => {
    await r1?.destroy();
    await primary?.destroy();
    tmp.remove();
  });

  it('status lists each replica with health, rotation and lag; --json gives the same as an object', async () => {
    const text = await runCli(primary.url, ['--schema', schema, 'replicas', 'status', '--replica', r1.url]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^replica\s+healthy\s+in rotation\s+lag bytes\s+lag ms/m);
    expect(text.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${r1.port}\\s+yes\\s+yes\\s+0\\s+0`));
    const json = await runCli(primary.url, ['--schema', schema, '--json', 'replicas', 'status', '--replica', r1.url]);
    const s = JSON.parse(json.stdout) as { primary: { healthy: boolean }; replicas: Array<{ healthy: boolean; inRotation: boolean; lagBytes: number }> };
    expect(s.primary.healthy).toBe(true);
    expect(s.replicas).toMatchObject([{ healthy: true, inRotation: true, lagBytes: 0 }]);
  }, 30_000);

  it('status refuses a "replica" that is not a standby, with the typed error and exit 1', async () => {
    const r = await runCli(primary.url, ['--schema', schema, 'replicas', 'status', '--replica', primary.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Server .* is not a streaming replica/m);
    expect(r.stderr).toMatch(/^hint: /m);
  }, 30_000);

  it('follow --once copies the log into a SQLite file; verify says identical, then names a corrupted event (exit 1)', async () => {
    const copy = join(tmp.dir, 'edge.db');
    const follow = await runCli(primary.url, ['--schema', schema, 'replicas', 'follow', copy, '--once', '--batch', '7']);
    expect(follow.code).toBe(0);
    expect(follow.stdout).toContain('30 events copied');
    const ok = await runCli(primary.url, ['--schema', schema, 'replicas', 'verify', copy]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^identical: source 30 events in 4 streams, copy 30 events/);
    const edge = await openSqliteEventStore({ path: copy });
    const [victim] = await edge.readStream('s-2', { fromVersion: 3n, maxCount: 1 });
    await storeDatabase(edge).run('UPDATE tessera_events SET event_type = ? WHERE event_id = ?', ['Forged', victim!.id]);
    await edge.close();
    const bad = await runCli(primary.url, ['--schema', schema, '--json', 'replicas', 'verify', copy]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { identical: boolean; divergences: Array<{ eventId: string; fields: string[]; streamVersion: string }> };
    expect(report.identical).toBe(false);
    expect(report.divergences).toMatchObject([{ eventId: victim!.id, fields: ['type'], streamVersion: '3' }]);
  }, 60_000);
});
