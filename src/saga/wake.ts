import { NotifySender } from '../eventstore/postgres/listener.js';
import { WakeSignal } from '../eventstore/wake-signal.js';
import type { PostgresDatabase } from '../storage/postgres.js';
import type { SqlDriver } from '../storage/port.js';
import { ToggleListener } from './listen.js';

/** The LISTEN/NOTIFY channel of the saga engines on one schema (channel names are limited to 63 bytes). */
export function sagaChannel(schema: string): string {
  return `tessera_saga_${schema}`.slice(0, 63);
}

/**
 * What wakes an engine's claim loop: a local start or signal, a retry timer, and (PostgreSQL) news of work
 * from another process. A wake-up that comes while the loop is busy claiming is remembered (`pending`), so the
 * loop claims once more instead of sleeping through it.
 */
export class EngineWake extends WakeSignal {
  pending = false;

  override notify(): void {
    this.pending = true;
    super.notify();
  }
}

/** An engine that has run nothing for this long listens; one with sagas in hand, after this long without a commit. */
const IDLE_LISTEN_MS = 20;
const ACTIVE_LISTEN_MS = 1_000;

/**
 * Cross-process wake-ups on PostgreSQL. Whatever makes a saga claimable for someone else (a start this engine
 * does not claim itself, a signal, a cancel, a re-driven compensation, the leases a stopping engine hands back)
 * leaves an unleased runnable row and sends a NOTIFY on the schema's saga channel once it has committed
 * (coalesced, at most one in flight, as the event store's are: inside the transaction it would take the
 * cluster-wide notify lock through the commit's WAL flush). An engine hears of such work in one of two ways:
 * - while it commits transitions, each commit's statement also says whether some saga is runnable and unleased
 *   (`o_work`, one probe of a small partial index; see `pg-apply.ts`): no listening needed, no extra round trip;
 * - while it does not, it LISTENs on the channel (`ToggleListener`). Listening is not free: PostgreSQL wakes
 *   every listening backend of the database for every NOTIFY, whatever its channel, and each wake-up is a
 *   transaction, so a listening engine would pay one per lifecycle event its own sagas append. It therefore
 *   stops listening at its first commit and starts again once its commits stop (after `IDLE_LISTEN_MS` with no
 *   saga in hand, `ACTIVE_LISTEN_MS` with some: a saga in a long step still commits rarely).
 * Both are shortcuts: the poll finds what they miss (a process killed between commit and NOTIFY, a listener
 * reconnecting) and the sagas of crashed runners (expired leases are not in the partial index).
 * SQLite has no notifications: its engines poll (`pollIntervalMs`, 25 ms by default).
 */
export class SagaWakeups {
  readonly #sender: NotifySender;
  readonly #listener: ToggleListener | null;
  /** Whether commits carry the news (the one-statement path); without it the engine always listens. */
  readonly #toggle: boolean;
  readonly #hasRuns: () => boolean;
  #lastCommit = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  /**
   * `listen` for an engine that runs sagas; `toggle` when its commits report new work (then it listens only
   * between its commits); `hasRuns` tells whether it holds sagas now.
   */
  constructor(db: SqlDriver, channel: string, listen: { wake: EngineWake; random: () => number; toggle: boolean; hasRuns: () => boolean } | null) {
    const pgDb = db as PostgresDatabase;
    this.#sender = new NotifySender(pgDb, 'SELECT pg_notify(?, ?)', channel);
    this.#listener = listen === null ? null : new ToggleListener(pgDb.clientConfig, channel, () => listen.wake.notify(), listen.random);
    this.#toggle = listen?.toggle ?? false;
    this.#hasRuns = listen?.hasRuns ?? (() => false);
    this.#listener?.set(true);
  }

  /** The saga channel of the store's schema on PostgreSQL; null on SQLite. */
  static async channel(db: SqlDriver): Promise<string | null> {
    if (db.dialect !== 'postgres') return null;
    const [row] = await db.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    return typeof row?.schema === 'string' ? sagaChannel(row.schema) : null;
  }

  /** Tells the other engines on the schema to look for work (after the commit that made it claimable). */
  notify(): void {
    this.#sender.send();
  }

  /** One of this engine's commits returned: it brings the news now, so stop listening until commits stop. */
  committed(): void {
    if (!this.#toggle || this.#listener === null || this.#stopped) return;
    this.#lastCommit = performance.now();
    this.#listener.set(false);
    this.#timer ??= this.#arm(IDLE_LISTEN_MS);
  }

  /** The engine's last saga ended: listen once its commits have stopped for the short while, not the long one. */
  idle(): void {
    if (this.#timer === null || this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = this.#arm(Math.max(0, IDLE_LISTEN_MS - (performance.now() - this.#lastCommit)));
  }

  #arm(ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timer = null;
      const quiet = performance.now() - this.#lastCommit;
      const needed = this.#hasRuns() ? ACTIVE_LISTEN_MS : IDLE_LISTEN_MS;
      if (quiet >= needed) this.#listener?.set(true);
      else this.#timer = this.#arm(needed - quiet);
    }, ms);
    t.unref();
    return t;
  }

  /** Stops listening, for good. */
  async stopListening(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#listener?.close();
  }

  /** Waits for the last notification to go out (before the store closes its pool). */
  drain(): Promise<void> {
    return this.#sender.drain();
  }
}
