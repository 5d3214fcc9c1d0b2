import { openPostgresEventStore } from '../eventstore/postgres/open.js';
import type { EventStore } from '../eventstore/types.js';
import { sleep } from '../support/clock.js';
import type { NodeProbe, ReplicaNode } from './node.js';
import type { ResolvedReplicaSetOptions } from './options.js';
import { type LsnSample, type ReplicaSetStatus, type ReadCounters, type ReplicaStatus, replicaStatuses } from './status.js';
import { formatLsn } from './lsn.js';

const SAMPLES = 400;
const HISTORY = 240;

/**
 * One point of the lag history a dashboard draws.
 * @example
 * ```ts
 * for (const p of rs.lagHistory()) console.log(p.at, p.replicas.map((r) => r.lagMs));
 * ```
 */
export interface LagPoint {
  at: Date;
  replicas: Array<{ name: string; lagBytes: number; lagMs: number; inRotation: boolean; healthy: boolean }>;
}

/**
 * Who is primary and how far behind each replica is: probes every server on an interval, keeps LSN
 * samples for lag in time, recomputes rotation, and follows a promoted replica (a failover) by opening
 * the event store on it and fencing the old primary out (no write goes to it again).
 */
export class Membership {
  primaryStore: EventStore;
  primaryNode: ReplicaNode;
  /** Bumped at every failover: a write that started under another epoch cannot be trusted as acknowledged. */
  epoch = 0;
  /**
   * Resolves when the current epoch ends (a failover): writes still waiting on the old primary stop waiting.
   * With synchronous replication a commit on an old primary that is still running would otherwise wait for
   * its (promoted) standby forever.
   */
  epochEnded: Promise<void>;
  #endEpoch: () => void = () => undefined;
  failovers = 0;
  replicas: ReplicaNode[];
  statuses: ReplicaStatus[] = [];
  readonly replay = new Map<string, bigint>();
  readonly reads: ReadCounters = { primary: 0, replicas: {}, waited: 0, fellBack: 0 };
  readonly history: LagPoint[] = [];
  #primaryProbe: NodeProbe | null = null;
  readonly #samples: LsnSample[] = [];
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #ticking: Promise<void> | null = null;

  constructor(
    private readonly o: ResolvedReplicaSetOptions,
    primaryStore: EventStore,
    primaryNode: ReplicaNode,
    replicas: ReplicaNode[],
  ) {
    this.primaryStore = primaryStore;
    this.primaryNode = primaryNode;
    this.replicas = replicas;
    this.epochEnded = new Promise((resolve) => (this.#endEpoch = resolve));
  }

  /** True when the last probe could not reach a writable primary. */
  get primaryDown(): boolean {
    return this.#primaryProbe !== null && (!this.#primaryProbe.ok || this.#primaryProbe.inRecovery);
  }

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stop.signal.aborted) {
        await this.tick().catch(() => undefined);
        await sleep(this.primaryDown ? Math.min(50, this.o.probeIntervalMs) : this.o.probeIntervalMs, this.#stop.signal);
      }
    })();
  }

  /** Probes now (joining a probe already running). */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = null));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const now = (): number => this.o.clock.now();
    const [primary, ...probes] = await Promise.all([this.primaryNode.probe(now), ...this.replicas.map((r) => r.probe(now))]);
    this.#primaryProbe = primary!;
    const promoted = this.replicas.find((r, i) => probes[i]!.ok && !probes[i]!.inRecovery && probes[i]!.ready);
    if (promoted) return this.#follow(promoted);
    if (primary!.ok && !primary!.inRecovery) {
      this.#samples.push({ at: primary!.at, lsn: primary!.lsn });
      if (this.#samples.length > SAMPLES) this.#samples.shift();
    }
    this.replicas.forEach((r, i) => {
      if (probes[i]!.ok) this.replay.set(r.name, probes[i]!.lsn);
    });
    this.statuses = replicaStatuses(primary!, this.replicas.map((r, i) => ({ name: r.name, probe: probes[i]! })), this.#samples, this.o.rotation, now());
    this.history.push({ at: new Date(now()), replicas: this.statuses.map((s) => ({ name: s.name, lagBytes: s.lagBytes, lagMs: s.lagMs, inRotation: s.inRotation, healthy: s.healthy })) });
    if (this.history.length > HISTORY) this.history.shift();
  }

  /** A replica left recovery: it is the primary now. Open the store there, fence the old primary out. */
  async #follow(promoted: ReplicaNode): Promise<void> {
    const store = await openPostgresEventStore({
      connectionString: promoted.url, schema: this.o.schema, maxConnections: this.o.maxConnections, connectTimeoutMs: this.o.probeTimeoutMs,
      ...this.o.storeOptions,
    });
    const oldStore = this.primaryStore;
    const oldNode = this.primaryNode;
    this.primaryStore = store;
    this.primaryNode = promoted;
    this.replicas = this.replicas.filter((r) => r !== promoted);
    this.replay.delete(promoted.name);
    this.epoch++;
    const end = this.#endEpoch;
    this.epochEnded = new Promise((resolve) => (this.#endEpoch = resolve));
    end();
    this.failovers++;
    this.#samples.length = 0;
    this.#primaryProbe = null;
    // The old primary may be dead (closing waits for nothing) or alive (its writes are no longer ours).
    void Promise.allSettled([oldStore.close(), oldNode.close()]);
    await this.#tick();
  }

  status(): ReplicaSetStatus {
    const p = this.#primaryProbe;
    return {
      primary: {
        name: this.primaryNode.name, healthy: p !== null && p.ok && !p.inRecovery,
        reason: p === null ? 'not probed yet' : !p.ok ? `unreachable: ${p.error ?? ''}` : p.inRecovery ? 'in recovery (demoted?)' : null,
        lsn: formatLsn(p?.lsn ?? 0n), probedAt: new Date(p?.at ?? 0),
      },
      replicas: this.statuses.map((s) => ({ ...s })),
      failovers: this.failovers,
      reads: { ...this.reads, replicas: { ...this.reads.replicas } },
    };
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#ticking?.catch(() => undefined);
    await Promise.allSettled([this.primaryStore.close(), this.primaryNode.close(), ...this.replicas.map((r) => r.close())]);
  }
}
