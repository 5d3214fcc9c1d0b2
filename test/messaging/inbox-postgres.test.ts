import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type RecordedEvent } from '../../src/index.js';
import { openInbox } from '../../src/messaging/index.js';
import { openPostgres } from '../../src/storage/postgres.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';

const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

function event(streamId: string, version: number, id = `${streamId}-v${version}`): RecordedEvent {
  return { id, type: 'Dep', streamId, streamVersion: BigInt(version), globalPosition: BigInt(version), recordedAt: new Date(), schemaVersion: 1, data: {} };
}

describe('Inbox on PostgreSQL', () => {
  it('applies once and in stream order, also when two connections race on the same event', async () => {
    const schema = freshSchemaName('inbox');
    schemas.push(schema);
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.end();
    const a = openPostgres({ connectionString: TEST_PG_URL, searchPath: [schema] });
    const b = openPostgres({ connectionString: TEST_PG_URL, searchPath: [schema] });
    try {
      await a.exec('CREATE TABLE effects (event_id TEXT NOT NULL)');
      const [ia, ib] = await Promise.all([openInbox(a, { consumer: 'ledger' }), openInbox(b, { consumer: 'ledger' })]);
      const effect = (e: RecordedEvent) => async (tx: { run: typeof a.run }) => void (await tx.run('INSERT INTO effects VALUES (?)', [e.id]));
      expect(await ia.apply(event('acct-1', 2), effect(event('acct-1', 2)))).toBe('early');
      expect(await ia.apply(event('acct-1', 1), effect(event('acct-1', 1)))).toBe('applied');
      expect(await ib.apply(event('acct-1', 1), effect(event('acct-1', 1)))).toBe('duplicate');
      // Races: both connections apply the same event at once; the loser's transaction rolls back and reports a duplicate.
      for (let v = 2; v <= 21; v++) {
        const e = event('acct-1', v);
        const outcomes = await Promise.allSettled([ia.apply(e, effect(e)), ib.apply(e, effect(e))]);
        expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected')).sort()).toEqual(['applied', 'duplicate']);
        expect(await ia.apply(e, effect(e))).toBe('duplicate');
      }
      const rows = await a.query<{ event_id: string; n: bigint }>('SELECT event_id, count(*) AS n FROM effects GROUP BY event_id');
      expect(rows).toHaveLength(21);
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
      expect(await ia.appliedVersion('acct-1')).toBe(21n);
      console.log('postgres inbox: 20 races between two connections, each event applied once, the loser reported a duplicate');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('applies concurrent events in one transaction with a savepoint each: a failing effect rolls back alone', async () => {
    const schema = freshSchemaName('inboxb');
    schemas.push(schema);
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.end();
    const db = openPostgres({ connectionString: TEST_PG_URL, searchPath: [schema] });
    try {
      await db.exec('CREATE TABLE effects (event_id TEXT PRIMARY KEY)');
      const inbox = await openInbox(db, { consumer: 'ledger' });
      const events = Array.from({ length: 30 }, (_, i) => event(`acct-${i}`, 1));
      // Event 5's effect violates the effects table's key (a failing SQL statement, not just a throw).
      await db.run('INSERT INTO effects VALUES (?)', [events[5]!.id]);
      const outcomes = await Promise.allSettled(events.map((e) => inbox.apply(e, async (tx) => void (await tx.run('INSERT INTO effects VALUES (?)', [e.id])))));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(29);
      expect(outcomes[5]!.status).toBe('rejected');
      expect(await inbox.has(events[5]!.id)).toBe(false);
      expect(await inbox.has(events[6]!.id)).toBe(true);
      const [count] = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM tessera_inbox');
      expect(Number(count!.n)).toBe(29);
    } finally {
      await db.close();
    }
  });
});
