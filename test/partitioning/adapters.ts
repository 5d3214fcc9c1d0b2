import { join } from 'node:path';
import { type EventStore, openPostgresEventStore, openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';

/** One engine the consumer-group suite runs on: stores opened on the same data, and how a child opens it. */
export interface GroupAdapter {
  name: string;
  openStore(): Promise<EventStore>;
  /** Arguments that let a child process open the same store (see fixtures/member.ts). */
  childArgs: string[];
  cleanup(): Promise<void>;
}

/** Creates a fresh adapter (new file or schema) per test. */
export type GroupAdapterFactory = () => GroupAdapter;

export const sqliteAdapter: GroupAdapterFactory = () => {
  const tmp = tempDir('tessera-groups-');
  const path = join(tmp.dir, 'events.db');
  const stores: EventStore[] = [];
  return {
    name: 'SQLite',
    openStore: async () => {
      const s = await openSqliteEventStore({ path });
      stores.push(s);
      return s;
    },
    childArgs: ['sqlite', path],
    cleanup: async () => {
      for (const s of stores) await s.close();
      tmp.remove();
    },
  };
};

export const postgresAdapter: GroupAdapterFactory = () => postgresAdapterAt(TEST_PG_URL);

/**
 * The PostgreSQL adapter on a given server. Tests that pause members (SIGSTOP) mid-transaction use a throwaway
 * cluster: transaction ids are cluster-wide, so a paused open transaction would hold back the gap-safe readAll of
 * every other test on the shared server.
 */
export function postgresAdapterAt(url: string): GroupAdapter {
  const schema = freshSchemaName('grp');
  const stores: EventStore[] = [];
  return {
    name: 'PostgreSQL',
    openStore: async () => {
      const s = await openPostgresEventStore({ connectionString: url, schema, maxConnections: 4 });
      stores.push(s);
      return s;
    },
    childArgs: ['postgres', url, schema],
    cleanup: async () => {
      for (const s of stores) await s.close();
      await dropSchemas([schema], url);
    },
  };
}

/**
 * The effect table the test handlers write in the checkpoint's transaction: one row per handling, with
 * a commit-ordered sequence, so duplicates, order and fencing can be checked afterwards.
 */
export async function createEffects(store: EventStore): Promise<void> {
  const db = storeDatabase(store);
  const seq = db.dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
  await db.exec(`CREATE TABLE IF NOT EXISTS effects (seq ${seq}, event_id TEXT NOT NULL, stream_id TEXT NOT NULL,
    stream_version BIGINT NOT NULL, part INTEGER NOT NULL, member TEXT NOT NULL, fence BIGINT NOT NULL)`);
}

/** The SQL a handler runs to record one handling. */
export const RECORD_EFFECT = 'INSERT INTO effects (event_id, stream_id, stream_version, part, member, fence) VALUES (?, ?, ?, ?, ?, ?)';

/** One recorded handling. */
export interface Effect {
  seq: number;
  eventId: string;
  streamId: string;
  streamVersion: number;
  part: number;
  member: string;
  fence: number;
}

export async function readEffects(store: EventStore): Promise<Effect[]> {
  const rows = await storeDatabase(store).query<Record<string, unknown>>('SELECT seq, event_id, stream_id, stream_version, part, member, fence FROM effects ORDER BY seq');
  return rows.map((r) => ({
    seq: Number(r.seq), eventId: String(r.event_id), streamId: String(r.stream_id), streamVersion: Number(r.stream_version),
    part: Number(r.part), member: String(r.member), fence: Number(r.fence),
  }));
}

/**
 * The invariants every scenario ends with: each stored event handled exactly once, each stream in version
 * order, and within a partition the fence never goes back (no two holders interleaved their commits).
 */
export async function checkEffects(store: EventStore, effects: Effect[]): Promise<{ events: number; handled: number; violations: string[] }> {
  const violations: string[] = [];
  const events = new Map<string, bigint>();
  for await (const e of store.streamAll()) events.set(e.id, e.streamVersion);
  const seen = new Map<string, number>();
  for (const f of effects) seen.set(f.eventId, (seen.get(f.eventId) ?? 0) + 1);
  for (const [id, n] of seen) if (n !== 1) violations.push(`event ${id} handled ${n} times`);
  for (const id of events.keys()) if (!seen.has(id)) violations.push(`event ${id} never handled`);
  const lastVersion = new Map<string, number>();
  const lastFence = new Map<number, number>();
  for (const f of effects) {
    const v = lastVersion.get(f.streamId) ?? 0;
    if (f.streamVersion !== v + 1) violations.push(`stream ${f.streamId}: version ${f.streamVersion} after ${v}`);
    lastVersion.set(f.streamId, f.streamVersion);
    if (f.fence < (lastFence.get(f.part) ?? 0)) violations.push(`partition ${f.part}: fence ${f.fence} after ${lastFence.get(f.part)}`);
    lastFence.set(f.part, f.fence);
  }
  return { events: events.size, handled: effects.length, violations: violations.slice(0, 20) };
}
