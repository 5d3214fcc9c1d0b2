import pg from 'pg';

/** The shared server (RECIPES.md); override with TESSERA_BENCH_PG (a connection string to an admin database). */
export const PG_ADMIN_URL = process.env.TESSERA_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;

/** Creates an empty database for one row so rows never share tables, caches or bloat; `drop` removes it. */
export async function freshDatabase(tag: string): Promise<{ connectionString: string; drop(): Promise<void> }> {
  const name = `tessera_bench_${tag}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    connectionString: url.toString(),
    drop: async () => {
      // Some clients end their pools without waiting for the sockets to close: give them a moment, so
      // FORCE (which makes their idle clients emit errors) is only the last resort.
      for (let i = 0; i < 40; i++) {
        const r = await adminQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${name}'`);
        if ((r.rows[0] as { n: number }).n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Runs one statement on the admin database with a short-lived client. */
export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
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
    const r = await adminQuery('SHOW server_version');
    return String((r.rows[0] as { server_version: string }).server_version);
  } catch {
    return null;
  }
}
