import { EventOutOfOrderError, InvalidArgumentError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { runMigrations } from '../storage/migrations.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { requireOptionsObject } from '../support/validate.js';
import { BatchedTransactions } from './batch-transactions.js';
import { validateName } from './subjects.js';
import type { BusHandler, BusMessage } from './types.js';
import { requireRecordedEvent } from './validate-event.js';

/**
 * Options of {@link openInbox}.
 *
 * @example
 * ```ts
 * const inbox = await openInbox(db, { consumer: 'search-indexer', ordered: false });
 * ```
 */
export interface InboxOptions {
  /** The consumer whose effects this inbox guards (usually the bus consumer name). */
  consumer: string;
  /**
   * Apply each stream's events in version order (default true): an event is applied only after the previous
   * version of its stream, so two consumers of one group never apply a stream's events out of order. Needs
   * the consumer to receive every event of the streams it sees (filter by category, not by type).
   */
  ordered?: boolean;
}

/**
 * What {@link Inbox.apply} did.
 *
 * @example
 * ```ts
 * const outcome: InboxOutcome = await inbox.apply(event, effect); // 'applied' | 'duplicate' | 'early'
 * ```
 */
export type InboxOutcome = 'applied' | 'duplicate' | 'early';

const MIGRATIONS = [
  {
    version: 1,
    name: 'inbox',
    sql: `
      CREATE TABLE IF NOT EXISTS tessera_inbox (
        consumer       TEXT   NOT NULL,
        event_id       TEXT   NOT NULL,
        stream_id      TEXT   NOT NULL,
        stream_version BIGINT NOT NULL,
        applied_at     BIGINT NOT NULL,
        PRIMARY KEY (consumer, event_id)
      );
      CREATE TABLE IF NOT EXISTS tessera_inbox_streams (
        consumer  TEXT   NOT NULL,
        stream_id TEXT   NOT NULL,
        version   BIGINT NOT NULL,
        PRIMARY KEY (consumer, stream_id)
      );
    `,
  },
];

/**
 * The consumer side of exactly-once: a table keyed by (consumer, event id), written in the same database
 * transaction as the handler's effect. Applies that run at the same time (a consumer's handlers in flight)
 * share one transaction, each in its own savepoint: one failing effect rolls back alone. Delivery is at least once; a redelivered event finds its row and
 * is skipped, and a crash between effect and ack leaves both or neither.
 *
 * @example
 * ```ts
 * const inbox = await openInbox(db, { consumer: 'billing' });
 * await bus.subscribe({
 *   consumer: 'billing',
 *   handler: inbox.handler(async (m, tx) => {
 *     await tx.run('INSERT INTO invoices (order_id) VALUES (?)', [m.event.streamId]);
 *   }),
 * });
 * ```
 */
export class Inbox {
  readonly #batches: BatchedTransactions;

  private constructor(
    readonly db: SqlDriver,
    readonly consumer: string,
    readonly ordered: boolean,
  ) {
    this.#batches = new BatchedTransactions(db);
  }

  /** Creates the inbox tables if needed (safe in several processes at once). */
  static async open(db: SqlDriver, options: InboxOptions): Promise<Inbox> {
    if (typeof db !== 'object' || db === null || typeof (db as Partial<SqlDriver>).transaction !== 'function') {
      throw new InvalidArgumentError('db', 'is not a SQL driver', 'Pass a driver from openSqlite(), storeDatabase(store) or the PostgreSQL driver.');
    }
    const o = requireOptionsObject(options, 'options') as Partial<InboxOptions>;
    const consumer = validateName(o.consumer, 'consumer');
    if (o.ordered !== undefined && typeof o.ordered !== 'boolean') {
      throw new InvalidArgumentError('ordered', 'is not a boolean', 'Pass ordered: true or false.');
    }
    await runMigrations(db, 'tessera_inbox_migrations', MIGRATIONS);
    return new Inbox(db, consumer, o.ordered ?? true);
  }

  /**
   * Runs `effect` and records the event in one transaction, unless the event was already applied
   * (`'duplicate'`) or, when ordered, its stream's previous version was not applied yet (`'early'`).
   */
  async apply(event: RecordedEvent, effect: (tx: SqlExecutor) => Promise<void>): Promise<InboxOutcome> {
    const e = requireRecordedEvent(event);
    if (typeof effect !== 'function') {
      throw new InvalidArgumentError('effect', 'is not a function', 'Pass apply(event, async (tx) => { … }).');
    }
    try {
      return await this.#applyOnce(e, effect);
    } catch (error) {
      // Another member applied the same event concurrently: our transaction lost on the primary key and
      // rolled back (effect included). That is a duplicate, not a failure.
      if (await this.has(e.id).catch(() => false)) return 'duplicate';
      throw error;
    }
  }

  // Concurrent applies (a consumer's handlers in flight) share one transaction, each in its own savepoint.
  #applyOnce(e: RecordedEvent, effect: (tx: SqlExecutor) => Promise<void>): Promise<InboxOutcome> {
    return this.#batches.run(async (tx) => {
      const seen = await tx.query('SELECT 1 AS x FROM tessera_inbox WHERE consumer = ? AND event_id = ?', [this.consumer, e.id]);
      if (seen.length > 0) return 'duplicate';
      if (this.ordered) {
        const [row] = await tx.query<{ version: number | bigint | string }>(
          'SELECT version FROM tessera_inbox_streams WHERE consumer = ? AND stream_id = ?',
          [this.consumer, e.streamId],
        );
        const last = row === undefined ? 0n : BigInt(row.version);
        if (e.streamVersion <= last) return 'duplicate';
        if (e.streamVersion > last + 1n) return 'early';
        await tx.run(
          'INSERT INTO tessera_inbox_streams (consumer, stream_id, version) VALUES (?, ?, ?) ON CONFLICT (consumer, stream_id) DO UPDATE SET version = excluded.version',
          [this.consumer, e.streamId, e.streamVersion],
        );
      }
      await effect(tx);
      await tx.run(
        'INSERT INTO tessera_inbox (consumer, event_id, stream_id, stream_version, applied_at) VALUES (?, ?, ?, ?, ?)',
        [this.consumer, e.id, e.streamId, e.streamVersion, Date.now()],
      );
      return 'applied';
    });
  }

  /**
   * A bus handler that applies each message through the inbox. A duplicate is acknowledged without running
   * `effect`; an early message (its stream's previous event is still with another member of the group)
   * fails with a retryable {@link EventOutOfOrderError}, which the NATS adapter retries locally without a
   * redelivery (see `orderWaitMs` of subscribe).
   */
  handler(effect: (message: BusMessage, tx: SqlExecutor) => Promise<void>): BusHandler {
    if (typeof effect !== 'function') {
      throw new InvalidArgumentError('effect', 'is not a function', 'Pass inbox.handler(async (message, tx) => { … }).');
    }
    return async (message) => {
      const outcome = await this.apply(message.event, (tx) => effect(message, tx));
      if (outcome !== 'early') return;
      const last = await this.appliedVersion(message.event.streamId);
      throw new EventOutOfOrderError(this.consumer, message.event.streamId, last + 1n, message.event.streamVersion);
    };
  }

  /** True when this consumer applied the event. */
  async has(eventId: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 AS x FROM tessera_inbox WHERE consumer = ? AND event_id = ?', [this.consumer, eventId]);
    return rows.length > 0;
  }

  /** The last version of a stream this consumer applied (ordered inboxes), `0n` when none. */
  async appliedVersion(streamId: string): Promise<bigint> {
    const [row] = await this.db.query<{ version: number | bigint | string }>(
      'SELECT version FROM tessera_inbox_streams WHERE consumer = ? AND stream_id = ?',
      [this.consumer, streamId],
    );
    return row === undefined ? 0n : BigInt(row.version);
  }
}

/**
 * Opens (creating its tables if needed) the inbox of one consumer in `db`.
 *
 * @example
 * ```ts
 * const inbox = await openInbox(openSqlite({ path: './read.db' }), { consumer: 'billing' });
 * const outcome = await inbox.apply(event, (tx) => tx.run('UPDATE totals SET n = n + 1').then(() => undefined));
 * ```
 */
export function openInbox(db: SqlDriver, options: InboxOptions): Promise<Inbox> {
  return Inbox.open(db, options);
}
