import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openSagaEngine, openSqliteEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { ROOT, runCli } from './run-cli.js';

// `script` (util-linux) runs a command on a pseudo-terminal: the only way to see what a user's terminal sees.
const hasScript = ((): boolean => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const tmp = tempDir('tessera-cli-migrate-');
const schemas: string[] = [];
afterAll(async () => {
  tmp.remove();
  await dropSchemas(schemas);
});

interface Report {
  database: string;
  created: boolean;
  applied: Array<{ part: string; version: number; name: string }>;
  parts: Array<{ part: string; version: number }>;
}

const ALL_SQLITE = ['eventstore 1', 'projections 1', 'leases 1', 'sagas 1'];
const applied = (r: Report): string[] => r.applied.map((m) => `${m.part} ${m.version}`);

describe('tessera init and migrate (SQLite)', () => {
  it('init creates the file, its folders and every table once; a second init applies nothing', async () => {
    const db = join(tmp.dir, 'new', 'folder', 'app.db');
    const first = await runCli(db, ['init']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(new RegExp(`^created ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\nran 4 migrations:\n`));
    expect(first.stdout).toMatch(/^sagas\s+1\s+saga tables$/m);

    const again = await runCli(db, ['--json', 'init']);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as Report;
    expect(report).toEqual({
      database: db,
      created: false,
      applied: [],
      parts: [{ part: 'eventstore', version: 1 }, { part: 'projections', version: 1 }, { part: 'leases', version: 1 }, { part: 'sagas', version: 1 }],
    });
    const text = await runCli(db, ['init']);
    expect(text.stdout).toBe(`already initialized: ${db}\nup to date: nothing to migrate\n`);
    // The store works after init: the other commands find it.
    expect((await runCli(db, ['sagas', 'list'])).stdout).toBe('no sagas\n');
    // The saga engine's SQLite-only migrations ran too (clustered tables), not only the shared ones.
    const raw = new Database(db, { readonly: true });
    try {
      expect(raw.prepare('SELECT max(version) AS v FROM tessera_saga_sqlite_migrations').get()).toEqual({ v: 2 });
      expect(raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'tessera_saga_instances'").pluck().get()).toMatch(/WITHOUT ROWID/i);
    } finally {
      raw.close();
    }
  });

  it('migrate reports only what was pending on a store made by the library', async () => {
    const db = join(tmp.dir, 'library.db');
    const store = await openSqliteEventStore({ path: db });
    const engine = await openSagaEngine({ store, sagas: [], maxConcurrent: 0 }); // creates the saga tables
    await engine.stop();
    await store.close();

    const r = await runCli(db, ['--json', 'migrate']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.created).toBe(false);
    expect(applied(report)).toEqual(['projections 1', 'leases 1']);
    const none = await runCli(db, ['migrate']);
    expect(none).toMatchObject({ code: 0, stdout: `migrated ${db}\nup to date: nothing to migrate\n` });
  });

  it('migrate refuses a missing store (exit 1, INVALID_ARGUMENT naming --db, hint to run init)', async () => {
    const db = join(tmp.dir, 'missing.db');
    const text = await runCli(db, ['migrate']);
    expect(text.code).toBe(1);
    expect(text.stderr).toBe(`error: Invalid --db: no database at ${db}\nhint: Run tessera init (or append an event) first, or point --db (or TESSERA_DB) at an existing store.\n`);
    const json = await runCli(db, ['--json', 'migrate']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({ error: expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: '--db', hint: expect.stringContaining('tessera init') }) });
    expect(json.stdout).toBe('');
  });

  it('rejects bad --db and --schema values before touching anything', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['', ['init'], /^error: Invalid --db: is empty\nhint: /],
      ['postgres://user@[bad', ['init'], /^error: Invalid --db: is not a valid postgres:\/\/ URL\nhint: /],
      [TEST_PG_URL, ['--schema', 'no-dashes', 'init'], /^error: Invalid schema: "no-dashes" is not a plain identifier/],
      [TEST_PG_URL, ['--schema', '1abc', 'migrate'], /^error: Invalid schema: /],
    ];
    for (const [db, args, message] of cases) {
      const r = await runCli(db, args);
      expect(r.code, `${db} ${args.join(' ')}`).toBe(1);
      expect(r.stderr, `${db} ${args.join(' ')}`).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it.skipIf(!hasScript)('draws a progress bar on a terminal (skipped without util-linux script)', async () => {
    const db = join(tmp.dir, 'tty.db');
    const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', '--db', db, 'init'].map(quote).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/ init \[=+\] 4\/4 \| sagas/);
    expect(stdout).toContain(`created ${db}`);
  });

  it('exits 2 with a storage error when the file cannot be a database', async () => {
    const folder = join(tmp.dir, 'a-folder');
    mkdirSync(folder);
    const r = await runCli(folder, ['--json', 'init']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toEqual({ error: expect.objectContaining({ code: 'STORAGE_ERROR' }) });
  });
});

describe('tessera with a postgres:// --db', () => {
  it('init creates the schema, migrate then has nothing to do, and the other commands work on it', async () => {
    const schema = freshSchemaName('cli');
    schemas.push(schema);
    const missing = await runCli(TEST_PG_URL, ['--schema', schema, '--json', 'migrate']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: { code: 'INVALID_ARGUMENT', argument: '--db', reason: `no event store in ${TEST_PG_URL} (schema ${schema})` } });

    const init = await runCli(TEST_PG_URL, ['--schema', schema, '--json', 'init']);
    expect(init.code).toBe(0);
    const report = JSON.parse(init.stdout) as Report;
    expect(report.created).toBe(true);
    expect(report.database).toBe(`${TEST_PG_URL} (schema ${schema})`);
    expect(applied(report).filter((m) => !m.startsWith('eventstore'))).toEqual(ALL_SQLITE.slice(1));
    expect(applied(report)[0]).toBe('eventstore 1');

    const migrate = await runCli(TEST_PG_URL, ['--schema', schema, 'migrate']);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/up to date: nothing to migrate\n$/);

    expect((await runCli(TEST_PG_URL, ['--schema', schema, 'append', 'pg-1', 'Pinged', '{"n":1}'])).code).toBe(0);
    const read = await runCli(TEST_PG_URL, ['--schema', schema, '--json', 'read', 'pg-1']);
    expect(JSON.parse(read.stdout)).toMatchObject({ streamId: 'pg-1', type: 'Pinged', data: { n: 1 }, streamVersion: '1' });
    const stats = await runCli(TEST_PG_URL, ['--schema', schema, '--json', 'stats']);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 1, streams: 1, topTypes: [{ type: 'Pinged', events: 1 }] });
    expect((await runCli(TEST_PG_URL, ['--schema', schema, 'sagas', 'list'])).stdout).toBe('no sagas\n');
    expect((await runCli(TEST_PG_URL, ['--schema', schema, '--json', 'projections', 'list'])).stdout).toBe('');
  });

  it('hides the password in output and exits 2 with a hint when the server is not there', async () => {
    const r = await runCli('postgres://app:s3cret@127.0.0.1:1/app', ['--json', 'init']);
    expect(r.code).toBe(2);
    const { error } = JSON.parse(r.stderr) as { error: { code: string; hint: string } };
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.hint.length).toBeGreaterThan(0);
    expect(r.stderr).not.toContain('s3cret');
  });
});
