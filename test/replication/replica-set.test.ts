import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MalformedSessionTokenError, NotAStandbyError, ReplicaUnavailableError } from '../../src/errors.js';
import { openReplicaSet, type ReplicaSet } from '../../src/replication/replica-set.js';
import { freePort, type PgCluster, startPgCluster } from '../support/pg-cluster.js';
import { type PgReplica, startPgReplica, waitForReplay } from '../support/pg-replica.js';
import { freshSchemaName } from '../support/pg-schema.js';
import { sleep } from '../support/processes.js';

/** Keeps appending to other streams until stopped: the replicas have something to lag behind. */
function writeLoad(rs: ReplicaSet): { stop(): Promise<number> } {
  let running = true;
  let n = 0;
  const loops = Array.from({ length: 1 }, async (_, w) => {
    while (running) {
      await rs.appendToStream(`load-${w}-${n % 50}`, [{ type: 'Load', data: { n, pad: 'x'.repeat(200) } }]);
      n++;
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return n;
    },
  };
}

describe('replica set on a primary and two streaming replicas (r2 applies WAL 150 ms late)', () => {
  let primary: PgCluster;
  let r1: PgReplica;
  let r2: PgReplica;
  let rs: ReplicaSet;
  const schema = freshSchemaName('rs');

  beforeAll(async () => {
    primary = await startPgCluster();
    [r1, r2] = await Promise.all([startPgReplica(primary, 'r1'), startPgReplica(primary, 'r2', { recovery_min_apply_delay: '150ms' })]);
    rs = await openReplicaSet({
      primary: primary.url, schema, probeIntervalMs: 50,
      replicas: [{ name: 'r1', connectionString: r1.url }, { name: 'r2', connectionString: r2.url }],
    });
    await waitForReplay(primary.url, [r1, r2]);
    await rs.refresh();
  }, 60_000);

  afterAll(async () => {
    await rs?.close();
    await Promise.all([r1?.destroy(), r2?.destroy()]);
    await primary?.destroy();
  });

  it('reads are strong (primary) unless a level is asked for', async () => {
    await rs.appendToStream('plain', [{ type: 'A', data: 1 }]);
    const before = rs.status().reads;
    expect((await rs.readStream('plain')).map((e) => e.type)).toEqual(['A']);
    const after = rs.status().reads;
    expect(after.primary).toBe(before.primary + 1);
    expect(after.replicas).toEqual(before.replicas);
  });

  it('read-your-writes: 1,000 write-then-read rounds under write load never read older than the own write', async () => {
    const load = writeLoad(rs);
    const session = rs.session();
    const before = rs.status().reads;
    let stale = 0;
    try {
      for (let i = 1; i <= 1_000; i++) {
        await session.appendToStream('ryw-own', [{ type: 'Wrote', data: { i } }]);
        const [last] = await session.readStream('ryw-own', { direction: 'backward', maxCount: 1 });
        if (last?.streamVersion !== BigInt(i)) stale++;
      }
    } finally {
      await load.stop();
    }
    const after = rs.status().reads;
    const byReplica = Object.fromEntries(['r1', 'r2'].map((n) => [n, (after.replicas[n] ?? 0) - (before.replicas[n] ?? 0)]));
    const primaryReads = after.primary - before.primary;
    console.log(`read-your-writes: 1000 reads, stale 0 expected (got ${stale}); served by r1 ${byReplica.r1}, r2 ${byReplica.r2}, primary ${primaryReads}; waited ${after.waited - before.waited}, fell back ${after.fellBack - before.fellBack}`);
    expect(stale).toBe(0);
    expect(byReplica.r1! + byReplica.r2! + primaryReads).toBe(1_000);
    expect(byReplica.r1! + byReplica.r2!).toBeGreaterThan(0);
  }, 120_000);

  it('a session token travels as a string: a new session from it reads the write', async () => {
    const writer = rs.session();
    const { sessionToken } = await writer.appendToStream('ryw-travel', [{ type: 'Wrote', data: 1 }]);
    expect(sessionToken).toMatch(/^rsv1:[0-9A-F]+\/[0-9A-F]+$/);
    const reader = rs.session(writer.token);
    expect(await reader.streamExists('ryw-travel')).toBe(true);
    expect((await rs.readStream('ryw-travel', { consistency: 'read-your-writes', token: sessionToken })).length).toBe(1);
  });

  it('monotonic reads: a session reading a moving stream across replicas of different lag never goes back', async () => {
    let running = true;
    let written = 0;
    const ticker = (async () => {
      while (running) await rs.appendToStream('ticker', [{ type: 'Tick', data: { n: ++written } }]);
    })();
    const session = rs.session();
    let previous = 0n;
    let backwards = 0;
    const before = rs.status().reads;
    // Control: the same reads without a session, at `eventual`, hop between the fast and the delayed replica.
    let controlPrevious = 0n;
    let controlBackwards = 0;
    try {
      for (let i = 0; i < 300; i++) {
        const [last] = await session.readStream('ticker', { direction: 'backward', maxCount: 1, waitMs: 0, ...(i % 2 ? { consistency: 'eventual' as const } : {}) });
        const v = last?.streamVersion ?? 0n;
        if (v < previous) backwards++;
        previous = v > previous ? v : previous;
        const [c] = await rs.readStream('ticker', { direction: 'backward', maxCount: 1, consistency: 'eventual' });
        if ((c?.streamVersion ?? 0n) < controlPrevious) controlBackwards++;
        controlPrevious = c?.streamVersion ?? 0n;
      }
    } finally {
      running = false;
      await ticker;
    }
    const after = rs.status().reads;
    console.log(`monotonic: 300 session reads went back ${backwards} times (sessionless eventual control: ${controlBackwards}); r1 ${(after.replicas.r1 ?? 0) - (before.replicas.r1 ?? 0)}, r2 ${(after.replicas.r2 ?? 0) - (before.replicas.r2 ?? 0)}, primary ${after.primary - before.primary}`);
    expect(backwards).toBe(0);
    expect(previous).toBeGreaterThan(0n);
  }, 60_000);

  it('lag monitoring: per-replica lag in bytes and time, the delayed replica lags more under load', async () => {
    const load = writeLoad(rs);
    let maxR2 = 0;
    let maxR2Bytes = 0;
    try {
      for (let i = 0; i < 40; i++) {
        const r = (await rs.refresh()).replicas.find((x) => x.name === 'r2')!;
        maxR2 = Math.max(maxR2, r.lagMs);
        maxR2Bytes = Math.max(maxR2Bytes, r.lagBytes);
        await sleep(10);
      }
    } finally {
      await load.stop();
    }
    await waitForReplay(primary.url, [r1, r2]);
    // The primary may still write a little WAL after the load (autovacuum, hint bits): lag returns to 0 once
    // the replicas replay it, so poll for that instead of reading one probe.
    await expect.poll(async () => (await rs.refresh()).replicas.map((r) => r.lagBytes), { timeout: 15_000, interval: 100 }).toEqual([0, 0]);
    const s = rs.status();
    console.log(`lag: r2 (150 ms apply delay) peaked at ${maxR2} ms / ${maxR2Bytes} bytes under load`);
    expect(maxR2Bytes).toBeGreaterThan(0);
    expect(s.primary.healthy).toBe(true);
    for (const r of s.replicas) expect(r).toMatchObject({ healthy: true, inRotation: true, lagBytes: 0, syncState: 'async' });
    expect(rs.lagHistory().length).toBeGreaterThan(0);
  }, 60_000);

  it('the query helper reads a read model at the requested level', async () => {
    await rs.primary.appendToStream('qm', [{ type: 'A', data: 1 }]);
    const session = rs.session();
    const { sessionToken } = await session.appendToStream('qm', [{ type: 'B', data: 2 }]);
    const rows = await rs.query<{ n: bigint }>(`SELECT count(*) AS n FROM "${schema}".events WHERE stream_id = ?`, ['qm'], { consistency: 'read-your-writes', token: sessionToken });
    expect(rows[0]!.n).toBe(2n);
    expect((await session.query<{ n: bigint }>(`SELECT count(*) AS n FROM events WHERE stream_id = ?`, ['qm']))[0]!.n).toBe(2n);
  });

  it('eventual and bounded-staleness reads are served by replicas in rotation', async () => {
    await rs.appendToStream('ev', [{ type: 'A', data: 1 }]);
    await waitForReplay(primary.url, [r1, r2]);
    await rs.refresh();
    const before = rs.status().reads;
    for (let i = 0; i < 20; i++) {
      expect((await rs.readStream('ev', { consistency: 'eventual' })).length).toBe(1);
      expect((await rs.readStream('ev', { consistency: 'bounded-staleness', maxStalenessMs: 60_000 })).length).toBe(1);
    }
    const all = await rs.readAll({ consistency: 'eventual', types: ['A'] });
    expect(all.map((e) => e.streamId)).toContain('ev');
    const after = rs.status().reads;
    expect((after.replicas.r1 ?? 0) + (after.replicas.r2 ?? 0) - (before.replicas.r1 ?? 0) - (before.replicas.r2 ?? 0)).toBe(41);
    expect(after.primary).toBe(before.primary);
  });

  it('a replica that goes down leaves rotation; reads carry on without errors (runs last: it stops r2)', async () => {
    await r2.stopImmediate();
    const s = await rs.refresh();
    expect(s.replicas.find((r) => r.name === 'r2')).toMatchObject({ healthy: false, inRotation: false, reason: expect.stringMatching(/^unreachable/) });
    expect(s.replicas.find((r) => r.name === 'r1')).toMatchObject({ healthy: true, inRotation: true });
    const before = rs.status().reads;
    for (let i = 0; i < 20; i++) expect((await rs.readStream('ev', { consistency: 'eventual' })).length).toBe(1);
    const after = rs.status().reads;
    expect((after.replicas.r1 ?? 0) - (before.replicas.r1 ?? 0)).toBe(20);
    expect(after.replicas.r2 ?? 0).toBe(before.replicas.r2 ?? 0);
  });

  it('bad input: malformed token, unknown level, unreachable replica, a replica that is not a standby', async () => {
    expect(() => rs.session('nope')).toThrow(MalformedSessionTokenError);
    await expect(rs.readAll({ consistency: 'read-your-writes', token: 'rsv1:zz/1' })).rejects.toBeInstanceOf(MalformedSessionTokenError);
    await expect(rs.readAll({ consistency: 'sometimes' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    const dead = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    await expect(openReplicaSet({ primary: primary.url, schema, replicas: [dead], probeTimeoutMs: 500 })).rejects.toBeInstanceOf(ReplicaUnavailableError);
    await expect(openReplicaSet({ primary: primary.url, schema, replicas: [primary.url] })).rejects.toBeInstanceOf(NotAStandbyError);
    await expect(openReplicaSet({ primary: r1.url, schema, replicas: [] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(openReplicaSet({ primary: primary.url, replicas: 'x' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
