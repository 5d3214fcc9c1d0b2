import { afterAll } from 'vitest';
import { type EventStore, openShardedEventStore } from '../../src/index.js';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { dropSchemas, freshSchemaName } from '../support/pg-schema.js';
import { eventStoreConformance } from './eventstore/index.js';

// Three throwaway PostgreSQL clusters (three servers), one shard database on each; the catalog lives on the
// first. Every test gets fresh schemas on all of them, dropped after.
const clusters = await Promise.all([startPgCluster(), startPgCluster(), startPgCluster()]);
afterAll(destroyAllPgClusters);

eventStoreConformance(
  'openShardedEventStore (3 PostgreSQL clusters)',
  async () => {
    const schema = freshSchemaName('shard');
    const catalogSchema = `${schema}_catalog`;
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openShardedEventStore({
          ...options,
          catalog: { kind: 'postgres', connectionString: clusters[0]!.url, schema: catalogSchema },
          shards: clusters.map((c, i) => ({ id: `pg${i}`, connection: { kind: 'postgres' as const, connectionString: c.url, schema, maxConnections: 4 } })),
        });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await Promise.all(clusters.map((c, i) => dropSchemas(i === 0 ? [schema, catalogSchema] : [schema], c.url)));
      },
    };
  },
  ['sharedDatabase', 'severalDatabases'],
);
