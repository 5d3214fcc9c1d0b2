import type { SqliteDatabase } from '../../storage/sqlite.js';
import Database from 'better-sqlite3';
import { toStorageError } from '../../storage/sqlite.js';

// A driver error becomes a StorageError; anything else (a version conflict, an inline projection's own
// error) reaches the caller as thrown, as on PostgreSQL.
function appendError(e: unknown): unknown {
  return e instanceof Database.SqliteError ? toStorageError(e, 'Append failed') : e;
}

type Outcome<Res> = { ok: true; value: Res } | { ok: false; error: unknown };

interface Pending<Req, Res> {
  request: Req;
  resolve(result: Res): void;
  reject(error: unknown): void;
}

/**
 * Group commit for SQLite: every append submitted in one event-loop turn joins one transaction, so N
 * concurrent callers pay for one fsync instead of N. Each request runs inside its own SAVEPOINT: one that
 * throws (a version conflict, say) is rolled back alone and only its caller sees the error. No caller is
 * acknowledged before the shared COMMIT returns; if the COMMIT fails (or the process dies first), every
 * request of the group fails and none was written.
 *
 * A sequential caller (awaiting each append) forms groups of one and pays only the setImmediate hop.
 *
 * With `afterApply` (inline projections), each request's async follow-up runs inside its savepoint too,
 * while this process's connection lock is held; without it the whole group commits synchronously.
 */
export class GroupCommitter<Req, Res> {
  #queue: Pending<Req, Res>[] = [];
  #scheduled = false;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqliteDatabase,
    private readonly apply: (request: Req) => Res,
    private readonly afterCommit: () => void,
    private readonly afterApply: ((request: Req, result: Res) => Promise<void>) | null = null,
  ) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#inFlight = this.#flush();
        });
      }
    });
  }

  /** Resolves once every request submitted so far has been committed or failed. */
  async drain(): Promise<void> {
    while (this.#scheduled || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.#inFlight;
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const group = this.#queue;
    this.#queue = [];
    if (group.length === 0) return;
    // Hooks await inside the transaction: hold the locks so nothing else of this process runs in it.
    if (this.afterApply !== null) return this.db.exclusive(() => this.#commitAsync(group, this.afterApply!));
    // Synchronous: runs at once unless an async transaction of this process holds the file, then after it.
    await this.db.outsideWrite(() => this.#commit(group));
  }

  async #commitAsync(group: Pending<Req, Res>[], afterApply: (request: Req, result: Res) => Promise<void>): Promise<void> {
    const outcomes: Outcome<Res>[] = [];
    try {
      this.db.assertOpen('event store');
      this.db.execSync('BEGIN IMMEDIATE');
      for (const item of group) {
        this.db.execSync('SAVEPOINT tessera_append');
        try {
          const value = this.apply(item.request);
          await afterApply(item.request, value);
          this.db.execSync('RELEASE tessera_append');
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.db.execSync('ROLLBACK TO tessera_append');
          this.db.execSync('RELEASE tessera_append');
          outcomes.push({ ok: false, error: appendError(error) });
        }
      }
      this.db.execSync('COMMIT');
    } catch (e) {
      if (!this.db.closed) this.db.rollbackIfOpen();
      const error = toStorageError(e, 'Group commit failed');
      for (const item of group) item.reject(error);
      return;
    }
    this.#settle(group, outcomes);
  }

  #commit(group: Pending<Req, Res>[]): void {
    const outcomes: Outcome<Res>[] = [];
    try {
      this.db.assertOpen('event store');
      if (group.length === 1) {
        outcomes.push({ ok: true, value: this.db.writeSync(() => this.apply(group[0]!.request)) });
      } else {
        this.db.writeSync(() => {
          for (const item of group) outcomes.push(this.#inSavepoint(item.request));
        });
      }
    } catch (e) {
      const error = toStorageError(e, group.length === 1 ? 'Append failed' : 'Group commit failed');
      for (const item of group) item.reject(error);
      return;
    }
    this.#settle(group, outcomes);
  }

  #settle(group: Pending<Req, Res>[], outcomes: Outcome<Res>[]): void {
    this.afterCommit();
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  #inSavepoint(request: Req): Outcome<Res> {
    this.db.execSync('SAVEPOINT tessera_append');
    try {
      const value = this.apply(request);
      this.db.execSync('RELEASE tessera_append');
      return { ok: true, value };
    } catch (error) {
      this.db.execSync('ROLLBACK TO tessera_append');
      this.db.execSync('RELEASE tessera_append');
      return { ok: false, error: appendError(error) };
    }
  }
}
