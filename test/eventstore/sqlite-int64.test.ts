import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventStore, openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

// The SQLite read path fetches integers as plain numbers for speed; past 2^53 it must fall back to BigInts.
describe('SQLite event store: positions and versions past 2^53', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function open(): Promise<EventStore> {
    const tmp = tempDir();
    const store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
    cleanups.push(() => tmp.remove(), () => store.close());
    return store;
  }

  const BIG_POSITION = 2n ** 53n + 3n;
  const BIG_VERSION = 2n ** 60n + 1n;

  it('reads them back exactly through readStream, readAll and streamAll', async () => {
    const store = await open();
    await store.appendToStream('small', [{ type: 'A', data: { n: 1 } }]);
    await storeDatabase(store).run(
      `INSERT INTO tessera_events (global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at)
       VALUES (?, 'big-1', 'big', ?, 'B', '{"n":2}', NULL, 1, 0)`,
      [BIG_POSITION, BIG_VERSION],
    );
    const [big] = await store.readStream('big');
    expect(big!.globalPosition).toBe(BIG_POSITION);
    expect(big!.streamVersion).toBe(BIG_VERSION);
    const all = await store.readAll();
    expect(all.map((e) => e.globalPosition)).toEqual([1n, BIG_POSITION]);
    const backward = await store.readStream('big', { direction: 'backward' });
    expect(backward[0]!.streamVersion).toBe(BIG_VERSION);
    const streamed: bigint[] = [];
    for await (const e of store.streamAll({ fromPosition: 2n })) streamed.push(e.globalPosition);
    expect(streamed).toEqual([BIG_POSITION]);
  });

  it('appends after a version past 2^53 with the exact expected version', async () => {
    const store = await open();
    await storeDatabase(store).run(
      `INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at)
       VALUES ('big-1', 'big', ?, 'B', '{}', NULL, 1, 0)`,
      [BIG_VERSION],
    );
    const r = await store.appendToStream('big', [{ type: 'C', data: {} }], { expectedVersion: BIG_VERSION });
    expect(r.nextExpectedVersion).toBe(BIG_VERSION + 1n);
    expect((await store.readStream('big', { fromVersion: BIG_VERSION + 1n }))[0]!.type).toBe('C');
  });
});
