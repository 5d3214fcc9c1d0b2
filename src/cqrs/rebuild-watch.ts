import { EventEmitter } from 'node:events';
import type { EventStore } from '../eventstore/types.js';
import type { SqlDriver } from '../storage/port.js';
import { sleep } from '../support/clock.js';
import { requirePositiveInt } from '../support/validate.js';
import { headPosition } from './head.js';
import { progressFigures, remainingEvents } from './progress.js';
import { requireRow } from './registry.js';

/** One progress report of a rebuild. */
export interface RebuildProgress {
  name: string;
  /** Shadow checkpoint: global position replayed so far. */
  position: bigint;
  /** Last readable position of the log. */
  head: bigint;
  /** Events replayed so far, and events still to replay (exact up to 1 000, estimated beyond). */
  processed: number;
  remaining: number;
  /** 0–100, by events. */
  percent: number;
  eventsPerSec: number;
  /** Estimated time to catch up, null until a rate is known. */
  etaMs: number | null;
}

/**
 * Follows a rebuild from any process by polling the projection's registry row (the projector doing the
 * work may run elsewhere). Emits `progress` ({@link RebuildProgress}), `failed` (the rebuild parked on an
 * event) and `done` ({ version, position }); `done` is also a promise.
 *
 * @example
 * ```ts
 * await requestRebuild(db, 'cart_totals');
 * const watch = new RebuildWatch(db, store, 'cart_totals');
 * watch.on('progress', (p) => bar.update(p.percent, { rate: p.eventsPerSec }));
 * await watch.done;
 * ```
 */
export class RebuildWatch extends EventEmitter {
  readonly done: Promise<{ version: number; position: bigint }>;
  #stopped = false;

  constructor(
    private readonly db: SqlDriver,
    private readonly store: EventStore,
    private readonly name: string,
    options: { intervalMs?: number } = {},
  ) {
    super();
    const intervalMs = options.intervalMs === undefined ? 250 : requirePositiveInt(options.intervalMs, 'intervalMs');
    this.done = this.#run(intervalMs);
    this.done.catch(() => undefined);
  }

  /** Stops watching (the rebuild itself goes on); `done` then never resolves. */
  stop(): void {
    this.#stopped = true;
  }

  async #run(intervalMs: number): Promise<{ version: number; position: bigint }> {
    const first = await requireRow(this.db, this.name);
    let seen = first.rebuildVersion !== null || first.rebuildRequested;
    const startGeneration = first.generation;
    let start: { at: number; applied: number } | null = null;
    let reportedFailure = false;
    while (!this.#stopped) {
      const row = await requireRow(this.db, this.name);
      const inProgress = row.rebuildVersion !== null || row.rebuildRequested;
      if (!inProgress && (seen || row.generation > startGeneration)) {
        this.emit('progress', { name: this.name, position: row.position, head: row.position, processed: 0, remaining: 0, ...progressFigures(0, 0, 1), percent: 100 } satisfies RebuildProgress);
        this.emit('done', { version: row.version, position: row.position });
        return { version: row.version, position: row.position };
      }
      seen ||= inProgress;
      if (row.state === 'failed' && row.failedPhase === 'rebuild' && !reportedFailure) {
        this.emit('failed', { name: this.name, eventId: row.failedEventId, error: row.error });
      }
      reportedFailure = row.state === 'failed';
      if (row.rebuildVersion !== null && row.rebuildPosition !== null) {
        const position = row.rebuildPosition;
        start ??= { at: Date.now(), applied: row.rebuildApplied };
        const remaining = await remainingEvents(this.store, position);
        const rate = progressFigures(row.rebuildApplied - start.applied, remaining, Date.now() - start.at);
        const overall = progressFigures(row.rebuildApplied, remaining, 1);
        this.emit('progress', {
          name: this.name,
          position,
          head: await headPosition(this.store, position + 1n),
          processed: row.rebuildApplied,
          remaining,
          percent: overall.percent,
          eventsPerSec: rate.eventsPerSec,
          etaMs: rate.etaMs,
        } satisfies RebuildProgress);
      }
      await sleep(intervalMs);
    }
    return new Promise(() => undefined);
  }
}
