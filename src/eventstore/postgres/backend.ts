import { ConcurrencyError } from '../../errors.js';
import type { PostgresDatabase } from '../../storage/postgres.js';
import { describePgError } from '../../storage/postgres-errors.js';
import type { AppendRequest, BackendTransaction, EventStoreBackend, PartitionPage, PartitionPageRequest, SnapshotRecord, StoredEvent } from '../backend.js';
import type { AppendHook, AppendResult } from '../types.js';
import { appendInTransaction, pgTextArray } from './append.js';
import type { HeadTable } from './append-function.js';
import { appendGroupInOneStatement, appendInOneStatement, canAppendInOneStatement } from './fast-append.js';
import { PgGroupCommitter } from './group-commit.js';
import { WakeSignal } from '../wake-signal.js';
import { NotificationListener, NotifySender } from './listener.js';
import { readAllBelowHorizon, readPartitionsBelowHorizon, type EventRow, toStoredEvent } from './read.js';
import { notifyChannel, type PgStatements, statements } from './schema.js';

const MAX_VERSION = 9223372036854775807n;
/** Retries of an append that lost a race on a unique key (concurrent first appends with the same event ids). */
const UNIQUE_RACE_RETRIES = 3;
/**
 * Group statements running at once. Measured with 8 concurrent writers (bench/profile/pg-ab.ts e): 1 in
 * flight gave 1.9x raw pg, 4 gave 2.1x; splitting a queue across free slots instead of one group, 1.2–1.5x.
 */
const GROUPS_IN_FLIGHT = 4;

/** Settings of {@link PostgresEventStoreBackend}. */
export interface PgBackendConfig {
  schema: string;
  hooks: readonly AppendHook[];
  readWaitMs: number;
  random: () => number;
  /** Added to transaction ids when deriving positions (see `clock.ts`). */
  xidOffset: bigint;
  /** Where stream heads are looked up (default `events`; `event_keys` on a time-partitioned store). */
  headTable?: HeadTable;
}

/**
 * The PostgreSQL engine behind the event store: one transaction per append, a lock on the stream only
 * (writers to different streams run in parallel), positions derived from transaction ids and a global log
 * read only below the oldest running transaction (see `read.ts`), LISTEN/NOTIFY to wake subscriptions.
 */
export class PostgresEventStoreBackend implements EventStoreBackend {
  readonly #sql: PgStatements;
  readonly #channel: string;
  readonly #wake = new WakeSignal();
  readonly #listener: NotificationListener;
  readonly #notifier: NotifySender;
  readonly #abort = new AbortController();
  readonly #committer: PgGroupCommitter;

  constructor(
    private readonly db: PostgresDatabase,
    private readonly config: PgBackendConfig,
  ) {
    this.#sql = statements(config.schema, config.xidOffset, config.headTable);
    this.#channel = notifyChannel(config.schema);
    this.#listener = new NotificationListener(db.clientConfig, this.#channel, this.#wake, config.random);
    this.#notifier = new NotifySender(db, this.#sql.notify, this.#channel);
    const { schema, xidOffset } = config;
    this.#committer = new PgGroupCommitter(
      {
        single: (req) => appendInOneStatement(db, this.#sql.appendEvents, schema, xidOffset, req),
        group: (reqs) => appendGroupInOneStatement(db, this.#sql.appendEventsGroup, schema, xidOffset, reqs),
      },
      GROUPS_IN_FLIGHT,
    );
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        const applied = canAppendInOneStatement(request, this.config.hooks.length)
          ? await this.#committer.submit(request)
          : await this.db.transaction((tx) => appendInTransaction(tx, this.#sql, request, this.config.hooks, this.config.schema));
        if (applied.firstPosition !== null) this.#committed();
        return applied.result;
      } catch (e) {
        await this.#rethrowUnlessIdRace(e, request, attempt);
      }
    }
  }

  async transaction<T>(fn: (tx: BackendTransaction) => Promise<T>): Promise<T> {
    let appended = false;
    const result = await this.db.transaction((sql) =>
      fn({
        sql,
        append: async (request) => {
          // Each append in its own savepoint: a failed one leaves nothing behind and the transaction goes on.
          for (let attempt = 1; ; attempt++) {
            await sql.exec('SAVEPOINT tessera_append');
            try {
              const applied = await appendInTransaction(sql, this.#sql, request, this.config.hooks, this.config.schema);
              await sql.exec('RELEASE SAVEPOINT tessera_append');
              appended ||= applied.firstPosition !== null;
              return applied.result;
            } catch (e) {
              await sql.exec('ROLLBACK TO SAVEPOINT tessera_append');
              await sql.exec('RELEASE SAVEPOINT tessera_append');
              await this.#rethrowUnlessIdRace(e, request, attempt);
            }
          }
        },
      }),
    );
    if (appended) this.#committed();
    return result;
  }

  /** Wakes this process's subscriptions now and other processes' through NOTIFY. */
  #committed(): void {
    this.#wake.notify();
    this.#notifier.send();
  }

  /** Turns unique violations into the contract's errors; returns (to retry) only for a lost race on an event id. */
  async #rethrowUnlessIdRace(e: unknown, request: AppendRequest, attempt: number): Promise<void> {
    const { code, constraint } = describePgError(e);
    if (code !== '23505') throw e;
    if (constraint === 'events_stream_version_key') {
      // Only a writer that bypassed the stream lock can get here: report the version that is stored.
      const [row] = await this.db.query<{ version: bigint }>(this.#sql.maxStreamVersion, [request.streamId]);
      throw new ConcurrencyError(request.streamId, request.expectedVersion, row?.version ?? 0n, { cause: e });
    }
    // Another transaction stored one of these event ids first (in another stream, or concurrently): run
    // again, now seeing its events (READ COMMITTED), so the idempotency check decides: retry result or conflict.
    if (constraint !== 'events_event_id_key' || attempt >= UNIQUE_RACE_RETRIES) throw e;
  }

  async readByIds(ids: readonly string[]): Promise<StoredEvent[]> {
    if (ids.length === 0) return [];
    return (await this.db.query<EventRow>(this.#sql.readByIds, [pgTextArray(ids)])).map(toStoredEvent);
  }

  async readStream(
    streamId: string,
    opts: { fromVersion: bigint | undefined; maxCount: number | undefined; backward: boolean },
  ): Promise<StoredEvent[]> {
    const limit = opts.maxCount ?? null;
    const rows = opts.backward
      ? await this.db.query<EventRow>(this.#sql.readBackward, [streamId, opts.fromVersion ?? MAX_VERSION, limit])
      : await this.db.query<EventRow>(this.#sql.readForward, [streamId, opts.fromVersion ?? 1n, limit]);
    return rows.map(toStoredEvent);
  }

  async readAll(opts: { fromPosition: bigint; maxCount: number | undefined; types: string[] | undefined }): Promise<StoredEvent[]> {
    return readAllBelowHorizon(this.db, this.#sql, opts, this.config.readWaitMs, this.#abort.signal);
  }

  async readPartitions(req: PartitionPageRequest): Promise<PartitionPage> {
    return readPartitionsBelowHorizon(this.db, this.#sql, req);
  }

  async streamVersion(streamId: string): Promise<bigint> {
    const [row] = await this.db.query<{ version: bigint }>(this.#sql.streamVersion, [streamId]);
    return row?.version ?? 0n;
  }

  async readSnapshot(streamId: string, name: string): Promise<SnapshotRecord | null> {
    const [row] = await this.db.query<{ schema_version: number; version: bigint; state: unknown }>(this.#sql.readSnapshot, [streamId, name]);
    return row ? { schemaVersion: Number(row.schema_version), version: row.version, state: row.state } : null;
  }

  async writeSnapshot(streamId: string, name: string, s: { schemaVersion: number; version: bigint; stateJson: string }): Promise<void> {
    await this.db.run(this.#sql.writeSnapshot, [streamId, name, s.schemaVersion, s.version, s.stateJson]);
  }

  waitForEvents(timeoutMs: number, signal: AbortSignal): Promise<void> {
    this.#listener.ensureStarted();
    return this.#wake.wait(timeoutMs, signal);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    this.#wake.notify();
    await this.#listener.close();
    await this.#committer.drain();
    await this.#notifier.drain();
    await this.db.close();
  }
}
