import { join } from 'node:path';
import { type EventStore, openSqliteEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { eventStoreConformance } from './eventstore/index.js';

// The same suite on a file (shared by several handles, like several processes) and in memory.
eventStoreConformance(
  'openSqliteEventStore (file)',
  async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'events.db');
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openSqliteEventStore({ ...options, path });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        tmp.remove();
      },
    };
  },
  ['sharedDatabase'],
);

eventStoreConformance('openSqliteEventStore (:memory:)', async () => {
  const opened: EventStore[] = [];
  return {
    open: async (options) => {
      const store = await openSqliteEventStore({ ...options });
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
    },
  };
});
