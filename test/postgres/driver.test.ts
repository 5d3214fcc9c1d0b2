import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { IndeterminateCommitError, InvalidArgumentError, isTesseraError, openPostgresEventStore, StorageError, StoreClosedError } from '../../src/index.js';
import { numberPlaceholders } from '../../src/storage/postgres-placeholders.js';
import { openPostgres } from '../../src/storage/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

describe('numberPlaceholders', () => {
  it('numbers ? outside strings, identifiers, dollar quotes and comments', () => {
    const sql = `SELECT ?, '?', "a?", E'x\\'?', $$ ? $$, $t$ ? $t$, ? -- ?\n/* ? /* ? */ */ , ?`;
    const { text, count } = numberPlaceholders(sql);
    expect(count).toBe(3);
    expect(text).toBe(`SELECT $1, '?', "a?", E'x\\'?', $$ ? $$, $t$ ? $t$, $2 -- ?\n/* ? /* ? */ */ , $3`);
    expect(numberPlaceholders("SELECT 'it''s ?', ?").text).toBe("SELECT 'it''s ?', $1");
  });
});

describe('PostgresDatabase', () => {
  it('binds ? parameters, returns int8 as BigInt, counts changes, and rolls back a failed transaction', async () => {
    const schema = freshSchemaName('drv');
    schemas.push(schema);
    const db = openPostgres({ connectionString: TEST_PG_URL });
    try {
      await db.exec(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".t (k text PRIMARY KEY, n bigint, b boolean, raw bytea)`);
      const big = 9_007_199_254_740_993n; // above Number.MAX_SAFE_INTEGER
      await db.run(`INSERT INTO "${schema}".t VALUES (?, ?, ?, ?)`, ["it's ?", big, true, new Uint8Array([1, 2, 3])]);
      const rows = await db.query<{ k: string; n: bigint; b: boolean; raw: Buffer }>(`SELECT * FROM "${schema}".t WHERE k = ? AND '?' = '?'`, ["it's ?"]);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.n).toBe(big);
      expect(rows[0]!.b).toBe(true);
      expect([...rows[0]!.raw]).toEqual([1, 2, 3]);
      expect(await db.run(`UPDATE "${schema}".t SET n = n + 1`)).toEqual({ changes: 1 });
      await expect(
        db.transaction(async (tx) => {
          await tx.run(`INSERT INTO "${schema}".t (k) VALUES (?)`, ['in-tx']);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const err = await db.query('SELECT * FROM no_such_table_xyz').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).cause).toBeDefined();
      expect((err as StorageError).retryable).toBe(false);
      expect(await db.query(`SELECT k FROM "${schema}".t ORDER BY k`)).toEqual([{ k: "it's ?" }]);
    } finally {
      await db.close();
    }
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(StoreClosedError);
  });

  it('reports a connection lost during COMMIT as IndeterminateCommitError (and the write is then really absent or present once)', async () => {
    const schema = freshSchemaName('drv');
    schemas.push(schema);
    const setup = openPostgres({ connectionString: TEST_PG_URL });
    await setup.exec(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".t (k text PRIMARY KEY)`);
    const proxy = await commitCuttingProxy(5432);
    const db = openPostgres({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, connectTimeoutMs: 2_000 });
    try {
      const err = await db
        .transaction(async (tx) => {
          await tx.run(`INSERT INTO "${schema}".t VALUES (?)`, ['x']);
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IndeterminateCommitError);
      expect(isTesseraError(err, 'INDETERMINATE_COMMIT')).toBe(true);
      expect((err as IndeterminateCommitError).retryable).toBe(true);
      // The proxy never forwarded the COMMIT: the server rolled back when the connection dropped.
      expect(await setup.query(`SELECT k FROM "${schema}".t`)).toEqual([]);
    } finally {
      await db.close();
      await setup.close();
      await proxy.close();
    }
  });
});

describe('connection failures', () => {
  const bounded = 8_000;

  it('a refused port gives a retryable StorageError with a hint, quickly', async () => {
    const port = await closedPort();
    const err = await openPostgresEventStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).hint).toMatch(/port|start PostgreSQL/);
    expect((err as StorageError).retryable).toBe(true);
  }, bounded);

  it('a server that never answers gives a StorageError with a hint within connectTimeoutMs', async () => {
    const silent = createServer(() => undefined); // accepts and says nothing
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    try {
      const port = (silent.address() as AddressInfo).port;
      const err = await openPostgresEventStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).hint).toMatch(/did not answer in time/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, bounded);

  it('a database that does not exist gives a StorageError naming the fix', async () => {
    const err = await openPostgresEventStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/no_such_db_tessera' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).hint).toMatch(/database .* does not exist/);
    expect((err as StorageError).retryable).toBe(false);
  }, bounded);

  it('an unknown user gives a StorageError about credentials', async () => {
    const err = await openPostgresEventStore({ connectionString: 'postgres://no_such_user_tessera@127.0.0.1:5432/test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).hint).toMatch(/credentials/);
  }, bounded);
});

describe('openPostgresEventStore options', () => {
  it.each([['x; drop table y'], ['a-b'], ['1abc'], [''], ['"quoted"'], ['a'.repeat(64)], [42]])('rejects the hostile or invalid schema name %s', async (schema) => {
    const err = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema: schema as string }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).argument).toBe('schema');
  });

  it('creates its schema, also when several stores open it at once, and folds the name to lower case', async () => {
    const schema = freshSchemaName('Open');
    schemas.push(schema.toLowerCase());
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresEventStore({ connectionString: TEST_PG_URL, schema, maxConnections: 2 })));
    await stores[0]!.appendToStream('s', [{ type: 'A', data: {} }]);
    expect(await stores[5]!.streamExists('s')).toBe(true);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a missing connection string', async () => {
    await expect(openPostgresEventStore({} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP proxy to PostgreSQL that drops the connection instead of forwarding a simple-protocol COMMIT. */
async function commitCuttingProxy(target: number, armed = true): Promise<{ port: number; arm(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      // 'Q' message whose text is COMMIT: cut both sides, so the server rolls the transaction back.
      if (armed && chunk[0] === 0x51 && chunk.subarray(5).toString('utf8').startsWith('COMMIT')) {
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    arm: () => void (armed = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('openPostgresEventStore with a caller-owned pool', () => {
  it('parses int8 as BigInt without touching the pool, and leaves the pool open on close', async () => {
    const schema = freshSchemaName('pool');
    schemas.push(schema);
    const pool = new pg.Pool({ connectionString: TEST_PG_URL, max: 3 });
    try {
      const store = await openPostgresEventStore({ pool, schema });
      const r = await store.appendToStream('p', [{ type: 'A', data: { x: 1 } }]);
      expect(typeof r.lastGlobalPosition).toBe('bigint');
      expect((await store.readAll())[0]!.globalPosition).toBe(r.lastGlobalPosition);
      await store.close();
      // The pool still works, and its own int8 parsing is unchanged (strings, pg's default).
      const { rows } = await pool.query('SELECT 1::int8 AS one');
      expect(rows[0].one).toBe('1');
    } finally {
      await pool.end();
    }
  });
});

describe('event store appends whose COMMIT outcome is unknown', () => {
  it('fail with IndeterminateCommitError, and a retry with the same ids stores the events once', async () => {
    const schema = freshSchemaName('indet');
    schemas.push(schema);
    const proxy = await commitCuttingProxy(5432, false);
    const healthy = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    const cut = await openPostgresEventStore({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, schema, connectTimeoutMs: 2_000 });
    try {
      const events = [{ id: 'indet-1', type: 'A', data: { n: 1 } }, { id: 'indet-2', type: 'A', data: { n: 2 } }];
      proxy.arm();
      const err = await cut.appendToStream('i', events).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IndeterminateCommitError);
      const first = await healthy.appendToStream('i', events);
      const again = await healthy.appendToStream('i', events);
      expect(again).toEqual(first);
      expect((await healthy.readStream('i')).map((e) => e.id)).toEqual(['indet-1', 'indet-2']);
    } finally {
      await cut.close();
      await healthy.close();
      await proxy.close();
    }
  });
});

describe('PostgresDatabase transactions', () => {
  it('refuses to report success for a transaction that an earlier caught error aborted', async () => {
    const db = openPostgres({ connectionString: TEST_PG_URL });
    try {
      const err = await db
        .transaction(async (tx) => {
          await tx.query('SELECT * FROM no_such_table_xyz').catch(() => undefined);
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).message).toMatch(/rolled back/);
    } finally {
      await db.close();
    }
  });
});
