import { afterAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/storage/index.js';
import { MAX_PREPARED, preparedName } from '../../src/storage/postgres-prepared.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

// A projector's batch transactions on PostgreSQL run the projection's writes as named prepared statements.
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const prepared = async (tx: { query<R extends object>(sql: string): Promise<R[]> }): Promise<string[]> =>
  (await tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY statement')).map((r) => r.statement);

describe('prepareWrites transactions (PostgreSQL)', () => {
  it('name parameterized INSERT/UPDATE/DELETE without RETURNING only; plain transactions name nothing', async () => {
    const schema = freshSchemaName('prep');
    schemas.push(schema);
    const db = openPostgres({ connectionString: TEST_PG_URL, maxConnections: 1, searchPath: [schema] });
    try {
      await db.exec(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".t (k text PRIMARY KEY, n bigint NOT NULL)`);
      await db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (k, n) VALUES (?, ?)', ['plain', 1]);
        expect(await prepared(tx)).toEqual([]);
      });
      await db.transaction(
        async (tx) => {
          await tx.run('INSERT INTO t (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n', ['a', 2]);
          await tx.run('UPDATE t SET n = n + ? WHERE k = ? RETURNING n', [1, 'a']);
          await tx.run("DELETE FROM t WHERE k = 'nothing'");
          await tx.query('SELECT n FROM t WHERE k = ?', ['a']);
          expect(await prepared(tx)).toEqual(['INSERT INTO t (k, n) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n']);
        },
        { prepareWrites: true },
      );
      expect(await db.query('SELECT k, n FROM t ORDER BY k')).toEqual([{ k: 'a', n: 3n }, { k: 'plain', n: 1n }]);
    } finally {
      await db.close();
    }
  });

  it('a named write whose table changed type under it fails once, then runs unnamed', async () => {
    const schema = freshSchemaName('prep');
    schemas.push(schema);
    const db = openPostgres({ connectionString: TEST_PG_URL, maxConnections: 1, searchPath: [schema] });
    const insert = 'INSERT INTO flags (k, v) VALUES (?, ?)';
    const write = (k: string): Promise<void> => db.transaction(async (tx) => void (await tx.run(insert, [k, 1])), { prepareWrites: true });
    try {
      await db.exec(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".flags (k text PRIMARY KEY, v integer NOT NULL)`);
      await write('a');
      await db.exec(`ALTER TABLE "${schema}".flags ALTER COLUMN v TYPE boolean USING v <> 0`);
      // The stored plan typed the parameter as integer: PostgreSQL refuses it for a boolean column.
      await expect(write('b')).rejects.toThrow(/42804|type boolean/);
      await write('c');
      expect(await db.query('SELECT k, v FROM flags ORDER BY k')).toEqual([{ k: 'a', v: true }, { k: 'c', v: true }]);
    } finally {
      await db.close();
    }
  });

  // Last: it fills this process's table of names.
  it(`names at most ${MAX_PREPARED} texts per process`, () => {
    const names = Array.from({ length: MAX_PREPARED + 10 }, (_, i) => preparedName(`UPDATE t SET n = ${i} WHERE k = $1`, 1));
    expect(names.filter((n) => n !== undefined).length).toBeLessThanOrEqual(MAX_PREPARED);
    expect(names.at(-1)).toBeUndefined();
    expect(preparedName('UPDATE t SET n = 1', 0)).toBeUndefined();
  });
});
