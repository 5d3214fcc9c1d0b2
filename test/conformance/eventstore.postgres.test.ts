import { type EventStore, openPostgresEventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';

/**
 * One suite case starts several appends and awaits them one after another. On a server, the later ones can
 * fail before the loop reaches them, which Node reports as an unhandled rejection although the test handles
 * it a moment later. Marking each append's promise as handled up front changes nothing the test observes.
 */
function preHandleRejections(store: EventStore): void {
  const append = store.appendToStream.bind(store);
  store.appendToStream = (...args) => {
    const p = append(...args);
    p.catch(() => undefined);
    return p;
  };
}

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
        preHandleRejections(store);
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
