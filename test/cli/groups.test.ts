import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { consumerGroupStatus, openConsumerGroup } from '../../src/partitioning/index.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

const tmp = tempDir('tessera-cli-groups-');
afterAll(() => tmp.remove());

describe('tessera groups', () => {
  it('lists groups and shows a group\'s members, partitions and lag', { timeout: 60_000 }, async () => {
    const db = join(tmp.dir, 'events.db');
    const store = await openSqliteEventStore({ path: db });
    for (let i = 0; i < 40; i++) await store.appendToStream(`order-${i % 8}`, [{ type: 'Placed', data: { i } }]);
    const member = await openConsumerGroup({ store, group: 'totals', partitions: 4, memberId: 'worker-1', sessionMs: 60_000, pollIntervalMs: 10, handler: () => undefined });
    for (let i = 0; i < 200 && (await consumerGroupStatus(store, 'totals')).totalLag > 0; i++) await new Promise((r) => setTimeout(r, 25));
    await member.stop({ leave: false }); // keeps its heartbeat and leases for the session: it still shows
    await store.appendToStream('order-1', [{ type: 'Placed', data: { late: true } }]);
    await store.close();

    const list = await runCli(db, ['groups', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ group: 'totals', partitions: 4, liveMembers: 1 });

    const status = await runCli(db, ['groups', 'status', 'totals', '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { members: Array<{ memberId: string; partitions: number[] }>; partitionStatus: Array<{ lag: number; owner: string }>; totalLag: number; head: string };
    expect(s.members).toMatchObject([{ memberId: 'worker-1', partitions: [0, 1, 2, 3] }]);
    expect(s.totalLag).toBe(1);
    expect(s.head).toBe('41');
    expect(s.partitionStatus.map((p) => p.owner)).toEqual(['worker-1', 'worker-1', 'worker-1', 'worker-1']);

    const text = await runCli(db, ['groups', 'status', 'totals']);
    expect(text.stdout).toMatch(/total lag\s+1 events/);
    expect(text.stdout).toMatch(/worker-1\s+yes\s+0,1,2,3/);

    const unknown = await runCli(db, ['groups', 'status', 'nope', '--json']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('UNKNOWN_CONSUMER_GROUP');
  });
});
