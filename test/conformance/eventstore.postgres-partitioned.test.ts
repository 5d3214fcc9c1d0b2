import { type EventStore, openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';

// The whole suite on a store whose events table is partitioned by day (docs/partitioning.md): every test in a
// fresh schema of the shared test database, dropped after. Tests with an injected clock (1970, say) append
// into intervals that have no partition yet, so the store creates them on the way.
eventStoreConformance(
  'openPostgresEventStore partitioned by day',
  async () => {
    const schema = freshSchemaName('confp');
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openPostgresEventStore({ ...options, connectionString: TEST_PG_URL, schema, maxConnections: 5, partitioning: { interval: 'day', ahead: 1 } });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await dropSchemas([schema]);
      },
    };
  },
  ['sharedDatabase'],
);
