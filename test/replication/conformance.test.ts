import { afterAll } from 'vitest';
import type { EventStore } from '../../src/index.js';
import { openReplicaSet } from '../../src/replication/replica-set.js';
import { eventStoreConformance } from '../conformance/eventstore/index.js';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { startPgReplica } from '../support/pg-replica.js';
import { dropSchemas, freshSchemaName } from '../support/pg-schema.js';

// The shared event store suite on a replica set (a throwaway primary and one streaming replica), with its
// default `strong` reads: the set must behave as an event store in every respect. Its database is not one
// `storeDatabase` handle (reads may go to another server), so those cases are skipped.
const primary = await startPgCluster();
const replica = await startPgReplica(primary, 'r1');
afterAll(async () => {
  await replica.destroy();
  await destroyAllPgClusters();
});

eventStoreConformance(
  'openReplicaSet (primary + 1 streaming replica, strong reads)',
  async () => {
    const schema = freshSchemaName('rsconf');
    const opened: EventStore[] = [];
    return {
      open: async (options) => {
        const store = await openReplicaSet({ ...options, primary: primary.url, replicas: [replica.url], schema, maxConnections: 4, probeIntervalMs: 1_000 });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        await Promise.all(opened.map((s) => s.close()));
        await dropSchemas([schema], primary.url);
      },
    };
  },
  ['sharedDatabase', 'severalDatabases'],
);
