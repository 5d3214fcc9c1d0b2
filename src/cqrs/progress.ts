import type { EventStore } from '../eventstore/types.js';
import { headPosition } from './head.js';

const EXACT_UP_TO = 1_000;

/**
 * How many events follow `after` in the global log: exact up to 1 000 (one bounded read), beyond that
 * estimated from the head position and the events-per-position density seen so far (global positions are
 * dense on SQLite but sparse on PostgreSQL, so positions alone cannot measure progress).
 */
export async function remainingEvents(store: EventStore, after: bigint, density: number): Promise<number> {
  const page = await store.readAll({ fromPosition: after + 1n, maxCount: EXACT_UP_TO });
  if (page.length < EXACT_UP_TO) return page.length;
  const head = await headPosition(store, after + 1n);
  return Math.max(EXACT_UP_TO, Math.round(Number(head - after) * density));
}

/** Progress figures from events done and remaining over elapsed time. */
export function progressFigures(done: number, remaining: number, elapsedMs: number): { percent: number; eventsPerSec: number; etaMs: number | null } {
  const eventsPerSec = (done * 1000) / Math.max(1, elapsedMs);
  const total = done + remaining;
  return {
    percent: total === 0 ? 100 : Math.floor((done / total) * 10_000) / 100,
    eventsPerSec,
    etaMs: remaining === 0 ? 0 : eventsPerSec > 0 ? Math.round((remaining / eventsPerSec) * 1000) : null,
  };
}
