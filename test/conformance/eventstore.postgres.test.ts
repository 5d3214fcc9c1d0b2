import { type EventStore, openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';

// The same suite on PostgreSQL: every test in a fresh schema of the shared test database, dropped after.
eventStoreConformance(
  'openPostgresEventStore',
  async () => {
    const schema = freshSchemaName('conf');
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openPostgresEventStore({ ...options, connectionString: TEST_PG_URL, schema, maxConnections: 5 });
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
