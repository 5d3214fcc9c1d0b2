import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { createServer } from '../../src/server/index.js';
import { tempDir } from '../support/tmp.js';
import { ADMIN_TOKEN, eventually, orderBody } from './harness.js';
import { useScaleOutService } from './panels-harness.js';

interface GroupView {
  group: string; partitions: number; head: string; totalLag: number;
  members: Array<{ memberId: string; live: boolean; partitions: number[] }>;
  partitionStatus: Array<{ partition: number; owner: string | null; checkpoint: string; lag: number }>;
}

describe('scale-out panels API (inject)', () => {
  const service = useScaleOutService();
  const inject = async (o: InjectOptions) => (await service()).app.inject(o);
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const orders = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6'];
  let placed: Promise<void> | undefined;
  /** Places the orders once and waits for their sagas, so the log is still afterwards. */
  const placeOrders = () => (placed ??= (async () => {
    for (const id of orders) expect((await inject({ method: 'POST', url: '/api/orders', payload: orderBody(id) })).statusCode).toBe(202);
    const svc = await service();
    for (const id of orders) expect((await svc.engine.waitForTerminal(id, { timeoutMs: 30_000 })).status).toBe('completed');
  })());
  const headOf = async () => (await service()).store.readAll({ fromPosition: 1n, maxCount: 100_000 });

  it('lists the three panels and documents their routes', async () => {
    expect((await inject({ url: '/dashboard/panels.json' })).json().panels).toEqual(expect.arrayContaining(['groups', 'replication', 'shards']));
    const doc = (await inject({ url: '/openapi.json' })).json();
    for (const path of ['/api/groups', '/api/replication', '/api/replication/verify', '/api/shards', '/api/shards/route']) expect(doc.paths[path]).toBeDefined();
    expect(doc.paths['/api/replication/verify'].post.security).toEqual([{ bearer: [] }]);
    for (const panel of ['groups', 'replication', 'shards']) expect((await inject({ url: `/dashboard/panels/${panel}.js` })).statusCode).toBe(200);
  });

  it('groups: two notification members split the 8 partitions, every checkpoint reaches the head, the read model counts each event once', async () => {
    await placeOrders();
    const all = await headOf();
    const head = all[all.length - 1]!.globalPosition.toString();
    const group = await eventually(async () => {
      const groups = (await inject({ url: '/api/groups' })).json().groups as GroupView[];
      const g = groups.find((x) => x.group === 'notifications');
      return g && g.totalLag === 0 && g.head === head && g.members.filter((m) => m.live).length === 2 && g.partitionStatus.every((p) => p.owner !== null) ? g : null;
    });
    expect(group.partitions).toBe(8);
    expect(group.members.map((m) => m.memberId).sort()).toEqual(['notifier-1', 'notifier-2']);
    expect(group.members.flatMap((m) => m.partitions).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const m of group.members) expect(m.partitions).toHaveLength(4);
    for (const p of group.partitionStatus) expect(BigInt(p.checkpoint)).toBeLessThanOrEqual(BigInt(head));
    const rows = await storeDatabase((await service()).store).query<{ order_id: string; events: number | bigint }>('SELECT order_id, events FROM order_notifications');
    for (const id of orders) {
      const stream = await (await service()).store.readStream(`order-${id}`);
      expect(Number(rows.find((r) => r.order_id === id)?.events)).toBe(stream.length);
    }
  });

  it('replication: the follower reaches the head; verify needs the token and reports identical, then names a corrupted event', async () => {
    await placeOrders();
    const all = await headOf();
    const head = all[all.length - 1]!.globalPosition.toString();
    const f = await eventually(async () => {
      const r = (await inject({ url: '/api/replication' })).json().follower;
      return r.sourcePosition === head && r.lagEvents === 0 ? r : null;
    });
    expect(f).toMatchObject({ lagMs: 0, lagExact: true, copied: String(all.length) });
    expect((await inject({ method: 'POST', url: '/api/replication/verify' })).statusCode).toBe(401);
    const ok = await inject({ method: 'POST', url: '/api/replication/verify', headers: admin });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ identical: true, sourceEvents: all.length, replicaEvents: all.length, divergenceCount: 0 });
    expect(ok.json().sourceDigest).toBe(ok.json().replicaDigest);

    const copy = (await service()).scaleOut!.server.replication.follower.target;
    const victim = (await copy.readAll({ fromPosition: 1n, maxCount: 3 }))[2]!;
    await storeDatabase(copy).run('UPDATE tessera_events SET data = ? WHERE event_id = ?', ['{"tampered":true}', victim.id]);
    const bad = (await inject({ method: 'POST', url: '/api/replication/verify', headers: admin })).json();
    expect(bad).toMatchObject({ identical: false, divergenceCount: 1 });
    expect(bad.divergences[0]).toMatchObject({ kind: 'mismatch', eventId: victim.id, fields: ['data'] });
  });

  it('shards: 3 shards own all 4,096 slots, hold every event of the log once, and a key routes to the shard that holds its stream', async () => {
    await placeOrders();
    const total = (await headOf()).length;
    const map = await eventually(async () => {
      const m = (await inject({ url: '/api/shards' })).json();
      return m.shards.reduce((a: number, s: { events: number }) => a + s.events, 0) === total ? m : null;
    });
    expect(map).toMatchObject({ epoch: 1, strategy: 'hash', totalSlots: 4096 });
    expect(map.shards.map((s: { id: string }) => s.id)).toEqual(['a', 'b', 'c']);
    expect(map.shards.reduce((a: number, s: { slots: number }) => a + s.slots, 0)).toBe(4096);
    for (const s of map.shards) expect(s.error).toBeNull();

    const route = (await inject({ url: '/api/shards/route?key=order-p-1' })).json();
    const shards = (await service()).scaleOut!.shards;
    expect(route).toEqual({ key: 'order-p-1', ...shards.router.route('order-p-1') });
    const there = await shards.query<{ n: number }>({ table: 'tessera_events', where: [{ column: 'stream_id', op: '=', value: 'order-p-1' }], aggregates: [{ fn: 'count', as: 'n' }] }, { shards: [route.shard] });
    expect(Number(there.rows[0]!.n)).toBe((await (await service()).store.readStream('order-p-1')).length);

    const empty = await inject({ url: '/api/shards/route?key=' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().code).toBe('INVALID_REQUEST');
  });

  it('a service without scale-out lists none of the three panels and has none of their routes', async () => {
    const tmp = tempDir('tessera-panels-plain-');
    const store = await openSqliteEventStore({ path: join(tmp.dir, 'plain.db') });
    const app = await createServer({ store, logger: false });
    try {
      const panels = (await app.inject({ url: '/dashboard/panels.json' })).json().panels;
      for (const p of ['groups', 'replication', 'shards']) expect(panels).not.toContain(p);
      expect((await app.inject({ url: '/api/groups' })).statusCode).toBe(404);
    } finally {
      await app.close();
      await store.close();
      tmp.remove();
    }
  });
});
