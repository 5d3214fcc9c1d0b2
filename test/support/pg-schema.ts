import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The shared test server (never stopped by tests). */
export const TEST_PG_URL = process.env.TESSERA_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh, unique schema name for one test. */
export function freshSchemaName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Drops schemas (and everything in them), ignoring ones that do not exist. */
export async function dropSchemas(names: Iterable<string>, url = TEST_PG_URL): Promise<void> {
  const list = [...names];
  if (list.length === 0) return;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    for (const name of list) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    await client.end();
  }
}
