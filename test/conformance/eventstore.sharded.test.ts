import { join } from 'node:path';
import { type EventStore, openShardedEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { eventStoreConformance } from './eventstore/index.js';

// The same suite on a store sharded over 3 SQLite files, with its catalog in a 4th; a second open() is a
// second router (like another process) over the same catalog and shards.
eventStoreConformance(
  'openShardedEventStore (3 SQLite files)',
  async () => {
    const tmp = tempDir();
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openShardedEventStore({
          ...options,
          catalog: { kind: 'sqlite', path: join(tmp.dir, 'catalog.db') },
          shards: ['a', 'b', 'c'].map((id) => ({ id, connection: { kind: 'sqlite' as const, path: join(tmp.dir, `${id}.db`) } })),
        });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        tmp.remove();
      },
    };
  },
  ['sharedDatabase', 'severalDatabases'],
);
