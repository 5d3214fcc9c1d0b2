import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { killAllChildren } from '../support/processes.js';
import { type GroupAdapter, postgresAdapterAt } from './adapters.js';
import { membersCrashScenario } from './members-crash.js';

let adapter: GroupAdapter | undefined;
afterEach(async () => {
  await killAllChildren();
  await adapter?.cleanup();
});
afterAll(() => destroyAllPgClusters());

describe('consumer group members joining and dying (PostgreSQL)', () => {
  it('kill -9 one member, SIGSTOP another past its lease, start a new one: exactly-once, ordered, fenced', { timeout: 300_000 }, async () => {
    // Its own cluster: the SIGSTOPped member holds a transaction open (see postgresAdapterAt).
    const cluster = await startPgCluster();
    adapter = postgresAdapterAt(cluster.url);
    const figures = await membersCrashScenario(adapter);
    console.log('[partitioning] PostgreSQL members crash:', figures);
    expect(figures.events).toBeGreaterThan(0);
  });
});
