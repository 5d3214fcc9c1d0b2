import { NotificationListener, NotifySender } from '../eventstore/postgres/listener.js';
import { WakeSignal } from '../eventstore/wake-signal.js';
import type { PostgresDatabase } from '../storage/postgres.js';
import type { SqlDriver } from '../storage/port.js';

/** The LISTEN/NOTIFY channel of the saga engines on one schema (channel names are limited to 63 bytes). */
export function sagaChannel(schema: string): string {
  return `tessera_saga_${schema}`.slice(0, 63);
}

/**
 * What wakes an engine's claim loop: a local start or signal, a retry timer, and (PostgreSQL) a notification
 * from another process. A wake-up that comes while the loop is busy claiming is remembered (`pending`), so
 * the loop claims once more instead of sleeping through it.
 */
export class EngineWake extends WakeSignal {
  pending = false;

  override notify(): void {
    this.pending = true;
    super.notify();
  }
}

/**
 * Cross-process wake-ups on PostgreSQL. Whatever makes a saga claimable for someone else (a start this engine
 * does not claim itself, a signal, a cancel, a re-driven compensation, the leases a stopping engine hands back)
 * sends a NOTIFY on the schema's saga channel once its transaction has committed; every running engine on the
 * schema LISTENs there on a connection of its own and looks for work at once. The NOTIFY goes after the commit,
 * coalesced (at most one in flight), as the event store's do: inside, it would take the cluster-wide notify lock
 * through the commit's WAL flush. The hot path sends none: a saga started and claimed by the same engine runs
 * there. Notifications are a shortcut only: a lost one (listener reconnecting, a process killed between commit
 * and NOTIFY) delays work until the next poll, and the listener wakes its engine whenever it reconnects.
 * SQLite has no such channel: its engines poll (`pollIntervalMs`, 25 ms by default).
 */
export class SagaWakeups {
  readonly #sender: NotifySender;
  readonly #listener: NotificationListener | null;

  private constructor(db: PostgresDatabase, channel: string, listen: { wake: EngineWake; random: () => number } | null) {
    this.#sender = new NotifySender(db, 'SELECT pg_notify(?, ?)', channel);
    this.#listener = listen === null ? null : new NotificationListener(db.clientConfig, channel, listen.wake, listen.random);
    this.#listener?.ensureStarted();
  }

  /** On PostgreSQL: a sender, and a listener when `listen` is given (an engine that runs sagas); else null. */
  static async open(db: SqlDriver, listen: { wake: EngineWake; random: () => number } | null): Promise<SagaWakeups | null> {
    if (db.dialect !== 'postgres') return null;
    const [row] = await db.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    if (row?.schema === null || row?.schema === undefined) return null;
    return new SagaWakeups(db as PostgresDatabase, sagaChannel(row.schema), listen);
  }

  /** Tells the other engines on the schema to look for work (after the commit that made it claimable). */
  notify(): void {
    this.#sender.send();
  }

  /** Stops listening. */
  async stopListening(): Promise<void> {
    await this.#listener?.close();
  }

  /** Waits for the last notification to go out (before the store closes its pool). */
  drain(): Promise<void> {
    return this.#sender.drain();
  }
}
