import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedSessionTokenError } from '../../src/errors.js';
import { decodeSessionToken, encodeSessionToken, formatLsn, parseLsn } from '../../src/replication/lsn.js';
import type { NodeProbe } from '../../src/replication/node.js';
import { replicaStatuses } from '../../src/replication/status.js';

const probe = (p: Partial<NodeProbe>): NodeProbe => ({
  ok: true, inRecovery: true, lsn: 0n, slotName: null, receiverStatus: 'streaming', clusterName: '', ready: true, senders: [], at: 1_000, ...p,
});

describe('LSNs and session tokens', () => {
  it('format and parse are inverse over the whole 64-bit range; tokens round-trip', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (lsn) => {
        expect(parseLsn(formatLsn(lsn))).toBe(lsn);
        expect(decodeSessionToken(encodeSessionToken(lsn))).toBe(lsn);
      }),
    );
    expect(parseLsn('0/3000148')).toBe(0x3000148n);
  });

  it('anything else is a MalformedSessionTokenError', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        if (/^rsv1:[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(s)) return;
        expect(() => decodeSessionToken(s)).toThrow(MalformedSessionTokenError);
      }),
    );
    expect(() => decodeSessionToken(42)).toThrow(MalformedSessionTokenError);
  });
});

describe('replica rotation', () => {
  const replica = fc.record({
    ok: fc.boolean(), inRecovery: fc.boolean(), attached: fc.boolean(), behind: fc.integer({ min: 0, max: 10_000 }), lagMs: fc.integer({ min: 0, max: 10_000 }),
  });

  it('unhealthy replicas are never in rotation; replicas within the bounds always are; at least the minimum set is kept', () => {
    fc.assert(
      fc.property(fc.array(replica, { maxLength: 6 }), fc.integer({ min: 0, max: 3 }), (specs, minInRotation) => {
        const policy = { maxLagMs: 5_000, maxLagBytes: 5_000, minInRotation };
        const primary = probe({
          inRecovery: false, lsn: 20_000n,
          senders: specs.flatMap((s, i) => (s.attached ? [{ applicationName: `r${i}`, slotName: `slot${i}`, state: 'streaming', syncState: 'async', replayLsn: null, replayLagMs: s.lagMs }] : [])),
        });
        const replicas = specs.map((s, i) => ({ name: `r${i}`, probe: probe({ ok: s.ok, inRecovery: s.inRecovery, lsn: BigInt(20_000 - s.behind), slotName: `slot${i}` }) }));
        const out = replicaStatuses(primary, replicas, [], policy, 2_000);
        const healthy = out.filter((s) => s.healthy);
        for (const [i, s] of out.entries()) {
          const spec = specs[i]!;
          expect(s.healthy).toBe(spec.ok && spec.inRecovery && spec.attached);
          if (!s.healthy) expect(s.inRotation).toBe(false);
          if (s.healthy && s.lagBytes <= policy.maxLagBytes && s.lagMs <= policy.maxLagMs) expect(s.inRotation).toBe(true);
          if (s.lagBytes === 0) expect(s.lagMs).toBe(0);
        }
        expect(out.filter((s) => s.inRotation).length).toBeGreaterThanOrEqual(Math.min(minInRotation, healthy.length));
      }),
    );
  });

  it('lag in time comes from LSN samples when PostgreSQL reports no replay_lag', () => {
    const primary = probe({ inRecovery: false, lsn: 300n, senders: [{ applicationName: 'r1', slotName: null, state: 'streaming', syncState: 'async', replayLsn: null, replayLagMs: null }] });
    const samples = [{ at: 1_000, lsn: 100n }, { at: 1_500, lsn: 200n }, { at: 1_900, lsn: 300n }];
    const [s] = replicaStatuses(primary, [{ name: 'r1', probe: probe({ lsn: 250n, clusterName: 'r1' }) }], samples, { maxLagMs: 1_000, maxLagBytes: 1_000, minInRotation: 1 }, 2_000);
    // The replica has replayed at least the primary's position at t=1500: it is at most 500 ms behind.
    expect(s).toMatchObject({ healthy: true, inRotation: true, lagBytes: 50, lagMs: 500, syncState: 'async' });
  });
});

describe('replica set metrics', () => {
  it('exposes lag, health, rotation, failovers and reads from the status on each scrape', async () => {
    const { Registry } = await import('prom-client');
    const { registerReplicaSetMetrics } = await import('../../src/replication/metrics.js');
    const registry = new Registry();
    let lagBytes = 4096;
    registerReplicaSetMetrics(registry, () => ({
      primary: { name: 'db1', healthy: true, reason: null, lsn: '0/10', probedAt: new Date(0) },
      replicas: [{ name: 'db2', healthy: true, reason: null, inRotation: false, replayLsn: '0/8', lagBytes, lagMs: 1500, syncState: 'async', probedAt: new Date(0) }],
      failovers: 1,
      reads: { primary: 3, replicas: { db2: 7 }, waited: 0, fellBack: 0 },
    }));
    const text = await registry.metrics();
    expect(text).toContain('tessera_replica_lag_bytes{replica="db2"} 4096');
    expect(text).toContain('tessera_replica_lag_seconds{replica="db2"} 1.5');
    expect(text).toContain('tessera_replica_in_rotation{replica="db2"} 0');
    expect(text).toContain('tessera_replica_set_primary_healthy{primary="db1"} 1');
    expect(text).toContain('tessera_replica_set_failovers 1');
    expect(text).toContain('tessera_replica_set_reads{server="db2"} 7');
    lagBytes = 0;
    expect(await registry.metrics()).toContain('tessera_replica_lag_bytes{replica="db2"} 0');
  });
});
