import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/eventstore/backend.js';
import { appendInTransaction } from '../../src/eventstore/postgres/append.js';
import { statements } from '../../src/eventstore/postgres/schema.js';
import {
  ConcurrencyError,
  type EventStore,
  IndeterminateCommitError,
  openPostgresEventStore,
  storeDatabase,
} from '../../src/index.js';
import { openPostgres, type PostgresDatabase } from '../../src/storage/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

async function openStore(): Promise<{ store: EventStore; schema: string; sent: string[] }> {
  const schema = freshSchemaName('fast');
  schemas.push(schema);
  const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema, readWaitMs: 200 });
  // Every statement text the store's pool sends from now on, to see which append path ran.
  const sent: string[] = [];
  const pool = (storeDatabase(store) as PostgresDatabase).pool;
  pool.on('acquire', (client: pg.PoolClient) => {
    const tagged = client as pg.PoolClient & { tesseraSpy?: boolean };
    if (tagged.tesseraSpy) return;
    tagged.tesseraSpy = true;
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      sent.push(typeof first === 'string' ? first : String((first as { text?: unknown }).text));
      return original(...args);
    };
  });
  return { store, schema, sent };
}

function heldRequest(streamId: string, id: string): AppendRequest {
  const data = JSON.stringify({ id });
  return {
    streamId,
    events: [{ id, idGiven: true, type: 'Held', data, metadata: null, schemaVersion: 1, bytes: data.length }],
    expectedVersion: 'any',
    recordedAt: Date.now(),
  };
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PostgreSQL one-statement append', () => {
  it('runs an append without caller ids or hooks as one statement, and one with caller ids in a transaction', async () => {
    const { store, sent } = await openStore();
    try {
      sent.length = 0;
      const r = await store.appendToStream('s', [{ type: 'A', data: { n: 1 } }, { type: 'B', data: { n: 2 } }], { expectedVersion: 'no_stream' });
      expect(r.nextExpectedVersion).toBe(2n);
      const appendStatements = sent.filter((t) => !/pg_notify/.test(t));
      expect(appendStatements).toHaveLength(1);
      expect(appendStatements[0]).toMatch(/append_events/);

      sent.length = 0;
      await store.appendToStream('s', [{ id: 'given-1', type: 'C', data: {} }], { expectedVersion: 2n });
      expect(sent).toContain('BEGIN');
      expect(sent.some((t) => /append_events/.test(t))).toBe(false);
      const events = await store.readStream('s');
      expect(events.map((e) => [e.type, e.streamVersion])).toEqual([['A', 1n], ['B', 2n], ['C', 3n]]);
    } finally {
      await store.close();
    }
  });

  it('an advisory lock assigns no transaction id (so the id of the append is assigned after the lock)', async () => {
    const db = openPostgres({ connectionString: TEST_PG_URL });
    try {
      // The same steps as the start of append_events, in PL/pgSQL: a statement that fails if the lock assigned an id.
      const probe = (check: string): Promise<void> =>
        db.exec(`DO $probe$ BEGIN
          PERFORM pg_advisory_xact_lock(hashtextextended('tessera-fast-path-probe', 0));
          ${check}
          IF pg_current_xact_id_if_assigned() IS NOT NULL THEN RAISE EXCEPTION 'xid assigned'; END IF;
        END $probe$`);
      await expect(probe('')).resolves.toBeUndefined();
      // The probe does detect an assigned id.
      await expect(probe('PERFORM pg_current_xact_id();')).rejects.toThrow(/xid assigned/);
    } finally {
      await db.close();
    }
  });

  it('turns a wrong expected version into ConcurrencyError with the stored version, for every kind of expectation', async () => {
    const { store } = await openStore();
    try {
      await store.appendToStream('s', [{ type: 'A', data: {} }, { type: 'A', data: {} }]);
      const cases = [
        { stream: 's', expected: 5n as bigint | string, actual: 2n },
        { stream: 's', expected: 1n, actual: 2n },
        { stream: 's', expected: 'no_stream', actual: 2n },
        { stream: 'absent', expected: 'stream_exists', actual: 0n },
        { stream: 'absent', expected: 3n, actual: 0n },
      ];
      for (const c of cases) {
        const err = await store
          .appendToStream(c.stream, [{ type: 'A', data: {} }], { expectedVersion: c.expected as 'no_stream' })
          .then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ConcurrencyError);
        expect((err as ConcurrencyError).actual).toBe(c.actual);
        expect((err as ConcurrencyError).expected).toBe(c.expected);
      }
      expect((await store.appendToStream('s', [{ type: 'A', data: {} }], { expectedVersion: 2n })).nextExpectedVersion).toBe(3n);
      expect((await store.appendToStream('new', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' })).nextExpectedVersion).toBe(1n);
      expect((await store.appendToStream('new', [{ type: 'A', data: {} }], { expectedVersion: 'stream_exists' })).nextExpectedVersion).toBe(2n);
    } finally {
      await store.close();
    }
  });

  it('stores a batch all or nothing', async () => {
    const { store, schema } = await openStore();
    const db = openPostgres({ connectionString: TEST_PG_URL });
    try {
      await db.exec(`ALTER TABLE "${schema}".events ADD CONSTRAINT no_bad CHECK (event_type <> 'Bad')`);
      await store.appendToStream('s', [{ type: 'Ok', data: {} }]);
      const err = await store
        .appendToStream('s', [{ type: 'Ok', data: {} }, { type: 'Ok', data: {} }, { type: 'Bad', data: {} }])
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((await store.readStream('s')).length).toBe(1);
      const r = await store.appendToStream('s', [{ type: 'Ok', data: {} }, { type: 'Ok', data: {} }], { expectedVersion: 1n });
      expect(r.nextExpectedVersion).toBe(3n);
      await until(async () => (await store.readAll()).length === 3);
      expect((await store.readAll()).map((e) => e.streamVersion)).toEqual([1n, 2n, 3n]);
    } finally {
      await store.close();
      await db.close();
    }
  });

  it('waits for the stream lock and then sees the holder\'s commit (a fresh snapshot after the lock), positioned after it', async () => {
    const { store, schema } = await openStore();
    const db = openPostgres({ connectionString: TEST_PG_URL });
    let release: () => void = () => undefined;
    try {
      let started!: () => void;
      const inserted = new Promise<void>((r) => (started = r));
      const held = db.transaction(async (tx) => {
        const applied = await appendInTransaction(tx, statements(schema), heldRequest('s', 'held-1'), [], schema);
        started();
        await new Promise<void>((r) => (release = r));
        return applied.result;
      });
      await inserted;
      // Expects version 1: only correct if the function's head read runs after the holder committed.
      const waiting = store.appendToStream('s', [{ type: 'After', data: {} }], { expectedVersion: 1n });
      let done = false;
      void waiting.finally(() => (done = true)).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      expect(done).toBe(false);
      release();
      const first = await held;
      const second = await waiting;
      expect(second.nextExpectedVersion).toBe(2n);
      expect(second.lastGlobalPosition).toBeGreaterThan(first.lastGlobalPosition);
    } finally {
      release();
      await store.close();
      await db.close();
    }
  });

  it('reports a connection lost while the statement runs as IndeterminateCommitError', async () => {
    const { store, schema } = await openStore();
    const db = openPostgres({ connectionString: TEST_PG_URL });
    let release: () => void = () => undefined;
    try {
      let started!: () => void;
      const inserted = new Promise<void>((r) => (started = r));
      const held = db.transaction(async (tx) => {
        await appendInTransaction(tx, statements(schema), heldRequest('s', 'held-2'), [], schema);
        started();
        await new Promise<void>((r) => (release = r));
      });
      await inserted;
      const waiting = store.appendToStream('s', [{ type: 'Lost', data: {} }]).then(() => null, (e: unknown) => e);
      const pattern = `%"${schema}".append_events%`;
      await until(async () => (await db.query('SELECT pid FROM pg_stat_activity WHERE query LIKE ? AND pid <> pg_backend_pid()', [pattern])).length > 0);
      await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE ? AND pid <> pg_backend_pid()', [pattern]);
      const err = await waiting;
      expect(err).toBeInstanceOf(IndeterminateCommitError);
      release();
      await held;
      expect((await store.readStream('s')).map((e) => e.type)).toEqual(['Held']);
      expect((await store.appendToStream('s', [{ type: 'Again', data: {} }], { expectedVersion: 1n })).nextExpectedVersion).toBe(2n);
    } finally {
      release();
      await store.close();
      await db.close();
    }
  });

  it('keeps the invariants of the multi-statement path under concurrent writers mixing both paths', async () => {
    const { store } = await openStore();
    try {
      const streams = ['a', 'b', 'c'];
      const results: Array<{ stream: string; size: number; next: bigint; last: bigint }> = [];
      // A reader paging the log while the writers run: gap-safe means it never passes an event that commits later below.
      const paged: bigint[] = [];
      let writing = true;
      const reader = (async () => {
        let from = 0n;
        while (writing) {
          const page = await store.readAll({ fromPosition: from, maxCount: 50 });
          for (const e of page) paged.push(e.globalPosition);
          if (page.length > 0) from = page[page.length - 1]!.globalPosition + 1n;
          else await new Promise((r) => setTimeout(r, 5));
        }
        return from;
      })();
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; i < 15; i++) {
            const stream = streams[(w + i) % streams.length]!;
            const size = 1 + ((w + i) % 3);
            const withIds = (w + i) % 4 === 0;
            const events = Array.from({ length: size }, (_, k) => ({
              ...(withIds ? { id: `w${w}-i${i}-k${k}` } : {}),
              type: withIds ? 'Given' : 'Generated',
              data: { w, i, k },
            }));
            const r = await store.appendToStream(stream, events);
            results.push({ stream, size, next: r.nextExpectedVersion, last: r.lastGlobalPosition });
          }
        }),
      );
      writing = false;
      await reader;
      const total = results.reduce((n, r) => n + r.size, 0);
      await until(async () => (await store.readAll({ maxCount: 10_000 })).length === total);
      const all = await store.readAll({ maxCount: 10_000 });
      for (let i = 1; i < all.length; i++) expect(all[i]!.globalPosition).toBeGreaterThan(all[i - 1]!.globalPosition);
      for (const stream of streams) {
        const inLog = all.filter((e) => e.streamId === stream).map((e) => e.streamVersion);
        // The global log lists each stream in stream order, versions 1…n without gaps.
        expect(inLog).toEqual(inLog.map((_, i) => BigInt(i + 1)));
        expect((await store.readStream(stream)).map((e) => e.id)).toEqual(all.filter((e) => e.streamId === stream).map((e) => e.id));
      }
      expect(paged.length).toBeGreaterThan(0);
      expect(paged).toEqual(all.slice(0, paged.length).map((e) => e.globalPosition));
      const byPosition = new Map(all.map((e) => [e.globalPosition, e]));
      for (const r of results) {
        // A batch sits at consecutive positions of one transaction (xid << 16) + i … (a group commit may put
        // several appends in one transaction, one after the other) and at consecutive versions.
        const last = byPosition.get(r.last)!;
        expect(last.streamId).toBe(r.stream);
        expect(last.streamVersion).toBe(r.next);
        const first = r.last - BigInt(r.size - 1);
        expect(first >> 16n).toBe(r.last >> 16n);
        for (let k = 0; k < r.size; k++) {
          const e = byPosition.get(first + BigInt(k))!;
          expect(e.streamId).toBe(r.stream);
          expect(e.streamVersion).toBe(r.next - BigInt(r.size - 1 - k));
        }
      }
    } finally {
      await store.close();
    }
  });
});
