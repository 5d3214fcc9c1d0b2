import { resolveCommonOptions } from '../eventstore/options.js';
import { PostgresEventStoreBackend } from '../eventstore/postgres/backend.js';
import { TesseraEventStore } from '../eventstore/store.js';
import type { EventStore, Upcaster } from '../eventstore/types.js';
import { PostgresDatabase } from '../storage/postgres.js';
import { parseLsn } from './lsn.js';

/** What one probe of a server found. */
export interface NodeProbe {
  ok: boolean;
  /** Why the probe failed (ok false). */
  error?: string;
  inRecovery: boolean;
  /** Replay LSN on a standby, current WAL LSN on a primary. */
  lsn: bigint;
  /** The standby's walreceiver slot and status (null on a primary or without a slot). */
  slotName: string | null;
  receiverStatus: string | null;
  clusterName: string;
  /** The event store schema exists (has replayed) on this server. */
  ready: boolean;
  /** pg_stat_replication rows (on a primary). */
  senders: SenderRow[];
  at: number;
}

/** One pg_stat_replication row, with the slot the walsender serves. */
export interface SenderRow {
  applicationName: string;
  slotName: string | null;
  state: string;
  syncState: string;
  replayLsn: bigint | null;
  replayLagMs: number | null;
}

const PROBE = (schema: string) => `SELECT pg_is_in_recovery() AS in_recovery,
    (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
    (SELECT slot_name FROM pg_stat_wal_receiver LIMIT 1) AS slot_name,
    (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status,
    current_setting('cluster_name') AS cluster_name,
    to_regclass('"${schema}".log_clock') IS NOT NULL AS ready`;

const SENDERS = `SELECT r.application_name, s.slot_name, r.state, r.sync_state, r.replay_lsn::text AS replay_lsn,
    (extract(epoch FROM r.replay_lag) * 1000)::float8 AS replay_lag_ms
  FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid`;

/**
 * One PostgreSQL server of a replica set: a small pool, a probe, and (lazily) a read-only event store on
 * the replicated schema — built from the engine's parts without migrations, which a standby refuses.
 */
export class ReplicaNode {
  readonly db: PostgresDatabase;
  #store: EventStore | null = null;

  constructor(
    readonly name: string,
    readonly url: string,
    private readonly schema: string,
    private readonly probeTimeoutMs: number,
    maxConnections: number,
    private readonly upcasters: Upcaster[] | undefined = undefined,
  ) {
    this.db = new PostgresDatabase({ connectionString: url, searchPath: [schema, 'public'], maxConnections, connectTimeoutMs: probeTimeoutMs, applicationName: 'tessera-replica-set' });
  }

  /** Probes the server within the probe timeout; never throws. */
  async probe(now: () => number): Promise<NodeProbe> {
    const failed = (error: string): NodeProbe => ({ ok: false, error, inRecovery: false, lsn: 0n, slotName: null, receiverStatus: null, clusterName: '', ready: false, senders: [], at: now() });
    try {
      return await withTimeout(this.#probe(now), this.probeTimeoutMs, `no answer within ${this.probeTimeoutMs} ms`);
    } catch (e) {
      return failed(e instanceof Error ? e.message : String(e));
    }
  }

  async #probe(now: () => number): Promise<NodeProbe> {
    const [row] = await this.db.query<{ in_recovery: boolean; lsn: string | null; slot_name: string | null; receiver_status: string | null; cluster_name: string; ready: boolean }>(PROBE(this.schema));
    const senders = row!.in_recovery ? [] : (await this.db.query<{ application_name: string; slot_name: string | null; state: string; sync_state: string; replay_lsn: string | null; replay_lag_ms: number | null }>(SENDERS)).map((r) => ({
      applicationName: r.application_name, slotName: r.slot_name, state: r.state, syncState: r.sync_state,
      replayLsn: r.replay_lsn === null ? null : parseLsn(r.replay_lsn), replayLagMs: r.replay_lag_ms,
    }));
    return {
      ok: true, inRecovery: row!.in_recovery, lsn: row!.lsn === null ? 0n : (parseLsn(row!.lsn) ?? 0n), slotName: row!.slot_name,
      receiverStatus: row!.receiver_status, clusterName: row!.cluster_name, ready: row!.ready, senders, at: now(),
    };
  }

  /** The replay LSN right now (a standby) — one cheap statement, used while waiting for a session's position. */
  async replayLsn(): Promise<bigint> {
    const [row] = await this.db.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
    return row?.lsn ? (parseLsn(row.lsn) ?? 0n) : 0n;
  }

  /** A read-only event store on this server's copy of the schema (created on first use). */
  async store(): Promise<EventStore> {
    if (this.#store) return this.#store;
    const [clock] = await this.db.query<{ xid_offset: bigint }>(`SELECT xid_offset FROM "${this.schema}".log_clock`);
    const common = resolveCommonOptions(this.upcasters ? { upcasters: this.upcasters } : {});
    const backend = new PostgresEventStoreBackend(this.db, { schema: this.schema, hooks: [], readWaitMs: 5_000, random: common.random, xidOffset: clock?.xid_offset ?? 0n });
    this.#store ??= new TesseraEventStore({ ...common, sql: this.db, backend });
    return this.#store;
  }

  async close(): Promise<void> {
    // The store's backend closes the pool it was given; without a store, close the pool here.
    if (this.#store) await this.#store.close();
    else await this.db.close();
  }
}

/** Rejects with `message` when `p` takes longer than `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
