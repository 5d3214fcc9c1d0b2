import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventStore, openPostgresEventStore, storeDatabase } from '../../src/index.js';
import type { PostgresDatabase } from '../../src/storage/index.js';
import { uuidV7 } from '../../src/support/ids.js';
import { groupToDistinctStreams, groupWithConflicts } from '../stress/group-commit-cases.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const GROUP = 8;

interface Sent {
  text: string;
  /** SQLSTATE of the error the statement failed with, '' when it succeeded. */
  error: string;
}

/** A store whose pool records every statement it sends and how it ended (to see which append path ran). */
async function openStore(schema?: string, ids?: () => string): Promise<{ store: EventStore; schema: string; sent: Sent[] }> {
  const name = schema ?? freshSchemaName('group');
  if (!schemas.includes(name)) schemas.push(name);
  // readAll waits for the shared server's older transactions (other tests) to end: give them time.
  const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema: name, readWaitMs: 10_000, ...(ids ? { ids } : {}) });
  const sent: Sent[] = [];
  (storeDatabase(store) as PostgresDatabase).pool.on('acquire', (client: pg.PoolClient) => {
    const tagged = client as pg.PoolClient & { groupSpy?: boolean };
    if (tagged.groupSpy) return;
    tagged.groupSpy = true;
    const original = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const entry: Sent = { text: typeof first === 'string' ? first : String((first as { text?: unknown }).text), error: '' };
      sent.push(entry);
      const result = original(...args);
      // Only promise-style calls (the store's); record the SQLSTATE without changing the outcome.
      if (result instanceof Promise) result.catch((e: unknown) => (entry.error = String((e as { code?: unknown }).code ?? 'error')));
      return result;
    };
  });
  return { store, schema: name, sent };
}

const groups = (sent: Sent[]) => sent.filter((s) => s.text.includes('append_events_group('));
const singles = (sent: Sent[]) => sent.filter((s) => s.text.includes('append_events(') && !s.text.includes('append_events_group('));

describe('PostgreSQL group commit', () => {
  it('sends concurrent appends as one statement, one transaction, and acknowledges each with what is stored', async () => {
    const { store, sent } = await openStore();
    try {
      await store.appendToStream('warm', [{ type: 'Warm', data: {} }]);
      sent.length = 0;
      const all = await groupToDistinctStreams(store, GROUP);
      expect(groups(sent).length).toBe(1);
      expect(singles(sent).length).toBe(0);
      // One transaction: every position carries the same xid in its high bits, and the log is contiguous.
      expect(new Set(all.map((e) => e.globalPosition >> 16n)).size).toBe(1);
      all.forEach((e, k) => expect(e.globalPosition).toBe(all[0]!.globalPosition + BigInt(k)));
    } finally {
      await store.close();
    }
  });

  it('fails a conflicting append alone while the rest of its group commits', async () => {
    const { store, sent } = await openStore();
    try {
      await groupWithConflicts(store, () => (sent.length = 0));
      expect(groups(sent).length).toBe(1);
      expect(singles(sent).length).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('sends the appends again one per statement when the server rejects the group, so only the culprit fails', async () => {
    // The id generator hands out one id twice: the group hits the unique key on event_id and rolls back.
    let n = 0;
    const ids = () => (++n === 2 || n === 4 ? 'twice' : uuidV7());
    const { store, sent } = await openStore(undefined, ids);
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, (_, i) => store.appendToStream(`f-${i}`, [{ type: 'F', data: { i } }], { expectedVersion: 'no_stream' })),
      );
      expect(groups(sent).map((s) => s.error)).toEqual(['23505']);
      expect(singles(sent).length).toBeGreaterThanOrEqual(4);
      // Appends 0, 1 and 2 were stored once each; append 3 (the second 'twice') failed alone on the unique key.
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
      const all = await store.readAll();
      expect(all.map((e) => e.streamId)).toEqual(['f-0', 'f-1', 'f-2']);
      expect(all.filter((e) => e.id === 'twice').length).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('never deadlocks: groups of overlapping streams in every order, from two stores, lock in one order', async () => {
    const a = await openStore();
    const b = await openStore(a.schema);
    const streams = ['x', 'y', 'z', 'w'];
    const rounds = 12;
    try {
      const writer = async (store: EventStore, w: number): Promise<number> => {
        let done = 0;
        for (let i = 0; i < rounds; i++) {
          await store.appendToStream(streams[(w * 7 + i * 3) % streams.length]!, [{ type: 'T', data: { w, i } }]);
          done++;
        }
        return done;
      };
      const done = await Promise.all([...Array.from({ length: 12 }, (_, w) => writer(a.store, w)), ...Array.from({ length: 12 }, (_, w) => writer(b.store, w + 12))]);
      expect(done.reduce((x, y) => x + y, 0)).toBe(24 * rounds);
      const sentGroups = [...groups(a.sent), ...groups(b.sent)];
      expect(sentGroups.length).toBeGreaterThan(0);
      // No group failed (a deadlock would fail one with 40P01 and send its appends again one by one).
      expect(sentGroups.filter((s) => s.error !== '')).toEqual([]);
      const all = await a.store.readAll({ maxCount: 10_000 });
      expect(all.length).toBe(24 * rounds);
      for (const s of streams) {
        const versions = all.filter((e) => e.streamId === s).map((e) => e.streamVersion);
        expect(versions).toEqual(versions.map((_, k) => BigInt(k + 1)));
      }
    } finally {
      await a.store.close();
      await b.store.close();
    }
  });
});
