import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConsumerGroup, openConsumerGroup } from '../../src/partitioning/index.js';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { postgresAdapterAt } from './adapters.js';
import { eventually } from './group-conformance.js';

afterAll(() => destroyAllPgClusters());

/**
 * A member paused inside its batch transaction keeps its checkpoint rows locked (updated, uncommitted). A member
 * that joins meanwhile must not wait for it: it used to hang in `openConsumerGroup` (registering the group's
 * checkpoint rows with INSERT … ON CONFLICT waits on a locked conflicting row) until the paused one resumed.
 * Its own cluster: the held transaction has an id, which would hold back readAll of every test on the shared one.
 */
describe('a member joining while another is paused inside its batch (PostgreSQL)', () => {
  it('opens, takes the free partitions and handles their events; the locked ones follow once the lock is gone', { timeout: 120_000 }, async () => {
    const cluster = await startPgCluster();
    const adapter = postgresAdapterAt(cluster.url);
    const blocker = new pg.Client({ connectionString: cluster.url });
    const members: ConsumerGroup[] = [];
    try {
      const store = await adapter.openStore();
      const first = await openConsumerGroup({ store, group: 'g', partitions: 4, handler: () => undefined, rebalanceIntervalMs: 50, sessionMs: 1_000 });
      await eventually(() => first.assigned.length === 4, 20_000, 'first member assigned');
      await first.stop();
      const schema = adapter.childArgs[2]!;
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query(`UPDATE "${schema}".tessera_group_checkpoints SET updated_at = updated_at WHERE group_name = 'g' AND part = 0`);

      const handled: string[] = [];
      const joining = openConsumerGroup({ store: await adapter.openStore(), group: 'g', partitions: 4, handler: (e) => void handled.push(e.streamId), rebalanceIntervalMs: 50, sessionMs: 1_000 });
      const second = await Promise.race([joining, new Promise<null>((r) => setTimeout(() => r(null), 30_000))]);
      expect(second, 'openConsumerGroup returned while a checkpoint row was locked').not.toBeNull();
      members.push(second!);
      await eventually(() => second!.assigned.length === 4, 30_000, 'all partitions assigned (leases are free)');
      await store.appendToStream('s-1', [{ type: 'Tick', data: {} }]);
      await blocker.query('ROLLBACK');
      await eventually(() => handled.includes('s-1'), 30_000, 'event handled');
    } finally {
      await blocker.end().catch(() => undefined);
      for (const m of members) await m.stop();
      await adapter.cleanup();
    }
  });
});
