import { isTesseraError } from '../../errors.js';
import type { AppendRequest } from '../backend.js';
import type { AppliedAppend } from '../applied.js';
import { POSITIONS_PER_TRANSACTION } from './append.js';
import type { GroupedOutcome } from './fast-append.js';

interface Pending {
  request: AppendRequest;
  resolve(applied: AppliedAppend): void;
  reject(error: unknown): void;
}

/** How the committer reaches the database: one append per statement, or a group per statement. */
export interface GroupSender {
  single(request: AppendRequest): Promise<AppliedAppend>;
  group(requests: readonly AppendRequest[]): Promise<GroupedOutcome[]>;
}

/** Most appends in one group statement: bounds its parameter size and the time its locks are held. */
const MAX_GROUP = 64;

/**
 * Group commit for PostgreSQL. Appends submitted while the committer is busy (up to `maxInFlight`
 * statements already running) queue up and leave together, as one `append_events_group` statement: one
 * round trip and one commit for all of them. Each caller is acknowledged only when that statement has
 * returned, i.e. after the shared COMMIT; a connection lost meanwhile rejects every caller of the group
 * with `IndeterminateCommitError` (retry with the same ids), and a crash before the commit stores none.
 * A version conflict fails its own append only. Any other error the server reports for the group (it
 * rolled back as a whole) sends its appends again one per statement, so each gets its own outcome.
 *
 * A lone sequential caller forms groups of one and pays the setImmediate hop that lets same-turn callers join.
 */
export class PgGroupCommitter {
  #queue: Pending[] = [];
  #scheduled = false;
  #inFlight = 0;
  readonly #idle: (() => void)[] = [];

  constructor(
    private readonly send: GroupSender,
    private readonly maxInFlight: number,
  ) {}

  submit(request: AppendRequest): Promise<AppliedAppend> {
    return new Promise<AppliedAppend>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every request submitted so far has been committed or failed. */
  async drain(): Promise<void> {
    while (this.#scheduled || this.#inFlight > 0 || this.#queue.length > 0) {
      await new Promise<void>((r) => this.#idle.push(r));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#queue.length === 0 || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    // One event-loop turn: callers resumed by the previous group's results (several microtask hops away)
    // submit again before the next group leaves.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#queue.length > 0 && this.#inFlight < this.maxInFlight) {
      const group = this.#takeGroup();
      this.#inFlight++;
      void this.#run(group).finally(() => {
        this.#inFlight--;
        this.#schedule();
        if (this.#inFlight === 0 && !this.#scheduled) for (const wake of this.#idle.splice(0)) wake();
      });
    }
  }

  /** The oldest queued appends that fit one transaction's positions (at least one). */
  #takeGroup(): Pending[] {
    let events = 0;
    let n = 0;
    for (const item of this.#queue) {
      events += item.request.events.length;
      if (n > 0 && (n >= MAX_GROUP || events > POSITIONS_PER_TRANSACTION)) break;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #run(group: Pending[]): Promise<void> {
    if (group.length === 1) return this.#one(group[0]!);
    let outcomes: GroupedOutcome[];
    try {
      outcomes = await this.send.group(group.map((g) => g.request));
    } catch (e) {
      // A Tessera error here is about the connection (lost: outcome unknown; refused: nothing sent) or a
      // closed store: the same answer for every caller. A server error rolled the group back: one by one.
      if (isTesseraError(e)) {
        for (const item of group) item.reject(e);
        return;
      }
      for (const item of group) await this.#one(item);
      return;
    }
    group.forEach((item, k) => {
      const outcome = outcomes[k]!;
      if (outcome.ok) item.resolve(outcome.applied);
      else item.reject(outcome.error);
    });
  }

  async #one(item: Pending): Promise<void> {
    try {
      item.resolve(await this.send.single(item.request));
    } catch (e) {
      item.reject(e);
    }
  }
}
