import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventStore, openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';

// SQLite reads build each row as one JSON text (ids and types quoted by SQLite, data and metadata spliced in):
// every string the API accepts must come back exactly, and a row that is not that layout must still fail loudly.
describe('SQLite event store: rows read as JSON text', () => {
  let store: EventStore;
  let remove: () => void;
  beforeAll(async () => {
    const tmp = tempDir();
    remove = tmp.remove;
    store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
  });
  afterAll(async () => {
    await store.close();
    remove();
  });

  const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\u0000'));
  const special = fc.constantFrom('"', '\\', '"],[1', '\n\t\r', '\u2028\u2029', '😀', "'", 'null');
  const anyText = fc.oneof(text, special, fc.tuple(text, special).map(([a, b]) => a + b));
  const metadata = fc.option(fc.dictionary(anyText, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown)), { nil: undefined });

  it('returns ids, stream ids, types, data and metadata exactly as appended', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyText, fc.array(fc.record({ id: anyText, type: anyText, data: anyText, metadata }), { minLength: 1, maxLength: 4 }), async (stream, raw) => {
        const streamId = `${stream}#${n++}`;
        const events = raw.map((e, i) => ({ id: `${e.id}#${streamId}#${i}`, type: e.type, data: { s: e.data }, ...(e.metadata ? { metadata: e.metadata } : {}) }));
        await store.appendToStream(streamId, events);
        const forward = await store.readStream(streamId);
        expect(forward.map((e) => ({ id: e.id, type: e.type, data: e.data, ...(e.metadata ? { metadata: e.metadata } : {}) }))).toEqual(events);
        expect(forward.every((e) => e.streamId === streamId && !('metadata' in e && e.metadata === undefined))).toBe(true);
        expect((await store.readStream(streamId, { direction: 'backward' })).map((e) => e.id)).toEqual(events.map((e) => e.id).reverse());
        const all = await store.readAll({ fromPosition: forward[0]!.globalPosition, maxCount: events.length });
        expect(all).toEqual(forward);
        expect(await store.readEventsById(events.map((e) => e.id))).toEqual(forward);
      }),
      { numRuns: 60 },
    );
  });

  it('fails a read of a stored row whose data is not one JSON value', async () => {
    await storeDatabase(store).run(
      `INSERT INTO tessera_events (event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at)
       VALUES ('bad-1', 'bad', 1, 'B', '1,2', NULL, 1, 0)`,
    );
    await expect(store.readStream('bad')).rejects.toThrow();
  });
});
