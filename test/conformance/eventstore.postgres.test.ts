import { openPostgresEventStore } from '../../src/index.js';
import { TEST_PG_URL } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';
import { pgSchemaFactory } from './pg-schema-factory.js';

// The same suite on PostgreSQL: every test in a fresh schema of the shared test database, dropped after.
eventStoreConformance(
  'openPostgresEventStore',
  pgSchemaFactory('conf', (options, schema) => openPostgresEventStore({ ...options, connectionString: TEST_PG_URL, schema, maxConnections: 5 })),
  ['sharedDatabase'],
);
