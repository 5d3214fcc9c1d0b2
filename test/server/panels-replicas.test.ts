import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrderService, startOrderService } from '../../examples/orders/service.js';
import { freePort, type PgCluster, startPgCluster } from '../support/pg-cluster.js';
import { type PgReplica, startPgReplica, waitForReplay } from '../support/pg-replica.js';
import { freshSchemaName } from '../support/pg-schema.js';
import { tempDir } from '../support/tmp.js';
import { ADMIN_TOKEN, eventually, orderBody } from './harness.js';

interface ReplicaView { name: string; healthy: boolean; inRotation: boolean; reason: string | null; lagBytes: number; lagMs: number }

describe('replication panel on PostgreSQL with two streaming replicas (TESSERA_REPLICAS)', () => {
  const tmp = tempDir('tessera-panels-pg-');
  let primary: PgCluster;
  let r1: PgReplica;
  let r2: PgReplica;
  let svc: OrderService;

  beforeAll(async () => {
    primary = await startPgCluster();
    [r1, r2] = await Promise.all([startPgReplica(primary, 'r1'), startPgReplica(primary, 'r2')]);
    const schema = freshSchemaName('panels');
    svc = await startOrderService({
      db: `${primary.url}?schema=${schema}`, logger: false, pollIntervalMs: 20, adminToken: ADMIN_TOKEN,
      scaleOut: { dir: tmp.dir, replicas: [r1.url, `${r2.url}?schema=${schema}`] },
    });
    await waitForReplay(primary.url, [r1, r2]);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await Promise.all([r1?.destroy(), r2?.destroy()]);
    await primary?.destroy();
    tmp.remove();
  });

  it('shows both replicas healthy and in rotation with their lag, the lag history, and the follower beside them', async () => {
    expect((await svc.app.inject({ method: 'POST', url: '/api/orders', payload: orderBody('pg-1') })).statusCode).toBe(202);
    expect((await svc.engine.waitForTerminal('pg-1', { timeoutMs: 30_000 })).status).toBe('completed');
    const body = await eventually(async () => {
      const b = (await svc.app.inject({ url: '/api/replication' })).json();
      const ok = b.replicaSet?.replicas.length === 2 && b.replicaSet.replicas.every((r: ReplicaView) => r.healthy && r.inRotation) && b.follower.lagEvents === 0;
      return ok && b.replicaSet.history.length > 0 ? b : null;
    }, 60_000);
    // Replicas given as bare connection strings are named by host:port.
    const names = [r1, r2].map((r) => new URL(r.url).host).sort();
    expect(body.replicaSet.replicas.map((r: ReplicaView) => r.name).sort()).toEqual(names);
    for (const r of body.replicaSet.replicas as ReplicaView[]) {
      expect(r.lagBytes).toBeGreaterThanOrEqual(0);
      expect(r.lagMs).toBeGreaterThanOrEqual(0);
    }
    expect(body.replicaSet.primary.healthy).toBe(true);
    const last = body.replicaSet.history[body.replicaSet.history.length - 1];
    expect(Object.keys(last.lagMs).sort()).toEqual(names);
    const verify = (await svc.app.inject({ method: 'POST', url: '/api/replication/verify', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    expect(verify).toMatchObject({ identical: true, divergenceCount: 0 });
  });

  it('refuses replicas for a SQLite store before opening anything', async () => {
    const port = await freePort();
    await expect(startOrderService({ db: join(tmp.dir, 'sqlite.db'), logger: false, scaleOut: { dir: tmp.dir, replicas: [`postgres://postgres@127.0.0.1:${port}/postgres`] } }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
