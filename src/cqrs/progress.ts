import type { EventStore } from '../eventstore/types.js';
import { headPosition } from './head.js';

/**
 * How many events follow `after` in the global log: exact up to `exactUpTo` (one bounded read); beyond
 * that estimated from the head position and the density (events per position) of the page just read.
 * Global positions are dense on SQLite but sparse on PostgreSQL, so positions alone cannot count events.
 */
export async function remainingEvents(store: EventStore, after: bigint, exactUpTo = 1_000): Promise<number> {
  const page = await store.readAll({ fromPosition: after + 1n, maxCount: exactUpTo });
  const last = page[page.length - 1];
  if (page.length < exactUpTo || last === undefined) return page.length;
  const head = await headPosition(store, last.globalPosition + 1n);
  const density = page.length / Number(last.globalPosition - after);
  return page.length + Math.round(Number(head - last.globalPosition) * density);
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
