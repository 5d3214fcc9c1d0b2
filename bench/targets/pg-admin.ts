import pg from 'pg';

/** The shared server (RECIPES.md); override with TESSERA_BENCH_PG (a connection string to an admin database). */
export const PG_ADMIN_URL = process.env.TESSERA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;
let benchDb: Promise<string> | null = null;

function urlFor(database: string, searchPath?: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  if (searchPath) url.searchParams.set('options', `-c search_path=${searchPath}`);
  return url.toString();
}

/** One database per run (CREATE DATABASE costs about a second on a busy machine; a schema costs milliseconds). */
function benchDatabase(): Promise<string> {
  benchDb ??= (async () => {
    const name = `tessera_bench_${process.pid}_${Date.now().toString(36)}`;
    await query(PG_ADMIN_URL, `CREATE DATABASE ${name}`);
    return name;
  })();
  return benchDb;
}

/**
 * A fresh, empty schema for one row, so rows never share tables, caches or bloat. Its connection string
 * sets `search_path` to it (Emmett and the raw rows create their tables in the current schema).
 */
export async function freshDatabase(tag: string): Promise<{ connectionString: string; schema: string; drop(): Promise<void> }> {
  const database = await benchDatabase();
  const schema = `${tag}_${++counter}`;
  await query(urlFor(database), `CREATE SCHEMA ${schema}`);
  return {
    connectionString: urlFor(database, schema),
    schema,
    drop: async () => void (await query(urlFor(database), `DROP SCHEMA IF EXISTS ${schema} CASCADE`)),
  };
}

/** Drops the run's database (at the end of a run, after every row closed its connections). */
export async function dropBenchDatabase(): Promise<void> {
  if (benchDb === null) return;
  const name = await benchDb.catch(() => null);
  benchDb = null;
  if (name !== null) await query(PG_ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Runs one statement with a short-lived client. */
async function query(connectionString: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The server's version, or null when it cannot be reached (the PG rows then print why). */
export async function pgVersion(): Promise<string | null> {
  try {
    const r = await query(PG_ADMIN_URL, 'SHOW server_version');
    return String((r.rows[0] as { server_version: string }).server_version);
  } catch {
    return null;
  }
}
