import { Gauge, type Registry } from 'prom-client';
import type { ReplicaSetStatus, ReplicaStatus } from './status.js';

/**
 * Registers a replica set's gauges in a prom-client registry; each scrape reads `status()` (the last probe,
 * no database round trip): per-replica lag in bytes and seconds, health and rotation, the primary's health,
 * failovers followed, and reads served per server.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * registerReplicaSetMetrics(registry, () => rs.status());
 * console.log(await registry.metrics()); // tessera_replica_lag_bytes{replica="db2"} 0 …
 * ```
 */
export function registerReplicaSetMetrics(registry: Registry, status: () => ReplicaSetStatus): void {
  const registers = [registry];
  const perReplica = (name: string, help: string, pick: (r: ReplicaStatus) => number): void =>
    void new Gauge({
      name, help, labelNames: ['replica'], registers,
      collect() {
        this.reset();
        for (const r of status().replicas) this.set({ replica: r.name }, pick(r));
      },
    });
  perReplica('tessera_replica_lag_bytes', 'WAL bytes the replica has not replayed', (r) => r.lagBytes);
  perReplica('tessera_replica_lag_seconds', 'How far the replica is behind in time', (r) => r.lagMs / 1000);
  perReplica('tessera_replica_healthy', '1 when the replica answers, is a standby and streams from the primary', (r) => (r.healthy ? 1 : 0));
  perReplica('tessera_replica_in_rotation', '1 when the replica serves eventual and bounded-staleness reads', (r) => (r.inRotation ? 1 : 0));
  new Gauge({
    name: 'tessera_replica_set_primary_healthy', help: '1 when the primary answers and is not in recovery', labelNames: ['primary'], registers,
    collect() {
      this.reset();
      const p = status().primary;
      this.set({ primary: p.name }, p.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tessera_replica_set_failovers', help: 'Promotions followed since the set was opened', registers,
    collect() {
      this.set(status().failovers);
    },
  });
  new Gauge({
    name: 'tessera_replica_set_reads', help: 'Reads served since the set was opened, by server', labelNames: ['server'], registers,
    collect() {
      this.reset();
      const { primary, replicas } = status().reads;
      this.set({ server: 'primary' }, primary);
      for (const [name, n] of Object.entries(replicas)) this.set({ server: name }, n);
    },
  });
}
