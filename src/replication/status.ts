import { formatLsn } from './lsn.js';
import type { NodeProbe, SenderRow } from './node.js';

/**
 * One replica as the monitor last saw it: the shape a dashboard panel or `tessera replicas status` shows.
 * @example
 * ```ts
 * for (const r of rs.status().replicas) console.log(r.name, r.healthy, r.inRotation, r.lagBytes, r.lagMs);
 * ```
 */
export interface ReplicaStatus {
  name: string;
  /** Reachable, a standby, attached to the current primary (streaming from it) and holding the schema. */
  healthy: boolean;
  /** Why it is not healthy, or why it is out of rotation. */
  reason: string | null;
  /** Serves `eventual` and `bounded-staleness` reads (healthy and within the lag bounds, or kept for the minimum set). */
  inRotation: boolean;
  replayLsn: string;
  /** WAL bytes the replica has not replayed yet (primary's current LSN − replica's replay LSN). */
  lagBytes: number;
  /** How far behind in time (ms): PostgreSQL's replay_lag when streaming, else an upper bound from LSN samples. */
  lagMs: number;
  /** `sync`, `potential`, `quorum` or `async` (pg_stat_replication), null when not attached. */
  syncState: string | null;
  probedAt: Date;
}

/**
 * The whole replica set at the last probe.
 * @example
 * ```ts
 * const s: ReplicaSetStatus = await rs.refresh();
 * ```
 */
export interface ReplicaSetStatus {
  primary: { name: string; healthy: boolean; reason: string | null; lsn: string; probedAt: Date };
  replicas: ReplicaStatus[];
  /** Failovers followed since open. */
  failovers: number;
  /** Where reads went since open. */
  reads: ReadCounters;
}

/**
 * Read routing counters.
 * @example
 * ```ts
 * const { primary, replicas, waited, fellBack }: ReadCounters = rs.status().reads;
 * ```
 */
export interface ReadCounters {
  primary: number;
  replicas: Record<string, number>;
  /** Read-your-writes reads that waited for a replica to replay the session's position. */
  waited: number;
  /** Reads sent to the primary because no replica qualified in time. */
  fellBack: number;
}

/**
 * Lag bounds past which a replica leaves rotation, and the minimum rotation kept.
 * @example
 * ```ts
 * const rotation: RotationPolicy = { maxLagMs: 2_000, maxLagBytes: 16 * 1024 * 1024, minInRotation: 1 };
 * ```
 */
export interface RotationPolicy {
  maxLagMs: number;
  maxLagBytes: number;
  minInRotation: number;
}

/** A (time, primary LSN) sample: lag in time is read off these. */
export interface LsnSample {
  at: number;
  lsn: bigint;
}

/**
 * Builds each replica's status from the last probes. Pure, so routing rules are tested without servers.
 */
export function replicaStatuses(
  primary: NodeProbe,
  replicas: ReadonlyArray<{ name: string; probe: NodeProbe }>,
  samples: readonly LsnSample[],
  policy: RotationPolicy,
  now: number,
): ReplicaStatus[] {
  const out = replicas.map(({ name, probe }) => {
    const sender = attachedSender(primary, name, probe);
    const lagBytes = primary.ok && probe.ok && primary.lsn > probe.lsn ? Number(primary.lsn - probe.lsn) : 0;
    const reason = !probe.ok ? `unreachable: ${probe.error ?? ''}` : !probe.inRecovery ? 'not a standby (promoted?)' : !primary.ok ? 'primary unreachable'
      : !sender ? 'not streaming from the primary' : !probe.ready ? 'schema not replicated yet' : null;
    const lagMs = lagBytes === 0 ? 0 : Math.max(sender?.replayLagMs ?? 0, 0) || lagFromSamples(samples, probe.lsn, now);
    const s: ReplicaStatus = {
      name, healthy: reason === null, reason, inRotation: false, replayLsn: formatLsn(probe.lsn), lagBytes, lagMs: Math.round(lagMs),
      syncState: sender?.syncState ?? null, probedAt: new Date(probe.at),
    };
    return s;
  });
  const healthy = out.filter((s) => s.healthy);
  for (const s of healthy) {
    s.inRotation = s.lagMs <= policy.maxLagMs && s.lagBytes <= policy.maxLagBytes;
    if (!s.inRotation) s.reason = `lagging (${s.lagMs} ms, ${s.lagBytes} bytes)`;
  }
  // Keep the minimum set: the least-lagging healthy replicas stay in even when past the bounds.
  const missing = policy.minInRotation - healthy.filter((s) => s.inRotation).length;
  if (missing > 0) {
    for (const s of healthy.filter((x) => !x.inRotation).sort((a, b) => a.lagBytes - b.lagBytes).slice(0, missing)) {
      s.inRotation = true;
      s.reason = `${s.reason ?? 'lagging'}; kept in rotation (minInRotation ${policy.minInRotation})`;
    }
  }
  return out;
}

/** The primary's walsender serving this replica: matched by replication slot, else by application_name. */
function attachedSender(primary: NodeProbe, name: string, probe: NodeProbe): SenderRow | undefined {
  if (!probe.ok || probe.receiverStatus !== 'streaming') return undefined;
  const bySlot = probe.slotName === null ? undefined : primary.senders.find((r) => r.slotName === probe.slotName);
  return bySlot ?? primary.senders.find((r) => r.applicationName === (probe.clusterName || name));
}

/**
 * Upper bound on how old a replica's data is: the replica has replayed at least the primary's position at
 * the last sample not beyond its replay LSN, so it is at most `now - that sample's time` behind.
 */
function lagFromSamples(samples: readonly LsnSample[], replayLsn: bigint, now: number): number {
  let at: number | undefined;
  for (const s of samples) if (s.lsn <= replayLsn) at = s.at;
  return now - (at ?? samples[0]?.at ?? now);
}
