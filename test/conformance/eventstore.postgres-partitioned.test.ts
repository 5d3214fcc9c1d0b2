import { openPostgresEventStore } from '../../src/index.js';
import { TEST_PG_URL } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';
import { pgSchemaFactory } from './pg-schema-factory.js';

// The whole suite on a store whose events table is partitioned by day (docs/partitioning.md): every test in a
// fresh schema of the shared test database, dropped after. Tests with an injected clock (1970, say) append
// into intervals that have no partition yet, so the store creates them on the way.
eventStoreConformance(
  'openPostgresEventStore partitioned by day',
  pgSchemaFactory('confp', (options, schema) =>
    openPostgresEventStore({ ...options, connectionString: TEST_PG_URL, schema, maxConnections: 5, partitioning: { interval: 'day', ahead: 1 } }),
  ),
  ['sharedDatabase'],
);
