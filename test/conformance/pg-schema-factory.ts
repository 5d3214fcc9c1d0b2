import type { CommonStoreOptions, EventStore } from '../../src/index.js';
import { dropSchemas, freshSchemaName } from '../support/pg-schema.js';
import type { EventStoreFactory } from './eventstore/index.js';

/**
 * A conformance factory for PostgreSQL stores: every test gets a fresh schema of the shared test database
 * (named `prefix…`), every handle opened in it is closed, and the schema is dropped after. `open` is the
 * wiring file's own call, so adapters-wired.test.ts still finds the adapter there.
 */
export function pgSchemaFactory(prefix: string, open: (options: CommonStoreOptions | undefined, schema: string) => Promise<EventStore>): EventStoreFactory {
  return async () => {
    const schema = freshSchemaName(prefix);
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await open(options, schema);
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await dropSchemas([schema]);
      },
    };
  };
}
