import { storeDatabase } from '../eventstore/store.js';
import type { EventStore, RecordedEvent } from '../eventstore/types.js';

/**
 * What to read: a stream or the global log, page by page (flat memory, whatever the size), forward or
 * backward, optionally filtered by type and limited to `max` matching events.
 *
 * @example
 * ```ts
 * const q: PageQuery = { types: ['ItemAdded'], from: 100n, max: 20 };
 * ```
 */
export interface PageQuery {
  /** A stream, or undefined for the global log. */
  streamId?: string;
  /** Inclusive start: a stream version, or a global position (an upper bound when backward). */
  from?: bigint;
  max?: number;
  backward?: boolean;
  types?: string[];
  pageSize?: number;
}

const PAGE = 500;

/**
 * Pages of matching events, in the requested order; stops after `max` events.
 *
 * @example
 * ```ts
 * for await (const page of readPages(store, { streamId: 'cart-1', backward: true, max: 10 })) print(page);
 * ```
 */
export async function* readPages(store: EventStore, q: PageQuery): AsyncGenerator<RecordedEvent[]> {
  let remaining = q.max ?? Number.POSITIVE_INFINITY;
  const source = q.streamId !== undefined ? streamPages(store, q.streamId, q) : q.backward ? globalBackwardPages(store, q) : globalForwardPages(store, q);
  for await (const raw of source) {
    const page = (q.types && q.streamId !== undefined ? raw.filter((e) => q.types!.includes(e.type)) : raw).slice(0, remaining);
    remaining -= page.length;
    if (page.length > 0) yield page;
    if (remaining <= 0) return;
  }
}

async function* streamPages(store: EventStore, streamId: string, q: PageQuery): AsyncGenerator<RecordedEvent[]> {
  const size = q.pageSize ?? PAGE;
  let from = q.from;
  for (;;) {
    const page = await store.readStream(streamId, {
      maxCount: size,
      direction: q.backward ? 'backward' : 'forward',
      ...(from === undefined ? {} : { fromVersion: from }),
    });
    if (page.length > 0) yield page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < size) return;
    if (q.backward && last.streamVersion <= 1n) return;
    from = q.backward ? last.streamVersion - 1n : last.streamVersion + 1n;
  }
}

async function* globalForwardPages(store: EventStore, q: PageQuery): AsyncGenerator<RecordedEvent[]> {
  const size = Math.min(q.pageSize ?? PAGE, q.max ?? PAGE);
  let from = q.from ?? 0n;
  for (;;) {
    const page = await store.readAll({ fromPosition: from, maxCount: size, ...(q.types ? { types: q.types } : {}) });
    if (page.length > 0) yield page;
    const last = page[page.length - 1];
    if (last === undefined || page.length < size) return;
    from = last.globalPosition + 1n;
  }
}

/**
 * The store API reads the global log forward only. Backward, each page's lowest position is found with
 * one indexed query on the events table, then the page itself is read through `readAll` (so upcasters
 * apply as everywhere else) and reversed.
 */
async function* globalBackwardPages(store: EventStore, q: PageQuery): AsyncGenerator<RecordedEvent[]> {
  const db = storeDatabase(store);
  const size = Math.min(q.pageSize ?? PAGE, q.max ?? PAGE);
  const typeFilter = q.types ? ` AND event_type IN (${q.types.map(() => '?').join(', ')})` : '';
  let upper = q.from;
  for (;;) {
    const rows = await db.query<{ p: number | bigint }>(
      `SELECT global_position AS p FROM tessera_events WHERE global_position <= ?${typeFilter} ORDER BY global_position DESC LIMIT ?`,
      [upper ?? Number.MAX_SAFE_INTEGER, ...(q.types ?? []), size],
    );
    const lowest = rows[rows.length - 1];
    if (lowest === undefined) return;
    const page = await store.readAll({ fromPosition: BigInt(lowest.p), maxCount: rows.length, ...(q.types ? { types: q.types } : {}) });
    yield page.reverse();
    if (rows.length < size) return;
    upper = BigInt(lowest.p) - 1n;
  }
}
