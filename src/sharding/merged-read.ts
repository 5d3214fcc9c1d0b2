import type { RecordedEvent } from '../eventstore/types.js';
import { MAX_EVENTS_PER_APPEND } from '../eventstore/validation.js';
import { POSITION_STRIDE } from './map.js';
import { positionsOf, readLogPage } from './shard-log.js';
import { type ShardHandle, unavailable } from './shards.js';

/**
 * The merged global log. Every event has a merged position `lamport * 1024 + shard index`: unique, stable,
 * and in one order for every reader. A page is read per shard after that shard's own cursor, and the pages
 * are merged by position; events above the last position of a shard whose page was full wait for that
 * shard's next page, so the merge never emits an event before one that sorts below it.
 * @module
 */

/** Per-shard cursor: the last merged position delivered from each shard index (exclusive lower bound). */
export type VectorCursor = Map<number, bigint>;

/** Reads one merged page. `after(index)` is the exclusive lower bound of each shard; `limitBelow` caps positions (exclusive). */
export async function readMergedPage(
  shards: readonly ShardHandle[],
  after: (index: number) => bigint,
  maxCount: number | undefined,
  types: readonly string[] | undefined,
  limitBelow: bigint | null,
): Promise<RecordedEvent[]> {
  const limit = maxCount ?? Number.MAX_SAFE_INTEGER;
  const lists = await Promise.all(
    shards.map(async (s) => {
      try {
        return { shard: s, rows: await readLogPage(s.db, after(s.info.index), limit, types) };
      } catch (e) {
        throw unavailable(s.info.id, e);
      }
    }),
  );
  let bound = limitBelow;
  for (const { rows } of lists) {
    const last = rows[rows.length - 1];
    if (rows.length === limit && last !== undefined && (bound === null || last.position + 1n < bound)) bound = last.position + 1n;
  }
  const picked = lists
    .flatMap(({ shard, rows }) => rows.map((r) => ({ shard, ...r })))
    .filter((r) => bound === null || r.position < bound)
    .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
    .slice(0, limit);
  const byShard = new Map<ShardHandle, Map<string, bigint>>();
  for (const p of picked) {
    const m = byShard.get(p.shard) ?? new Map<string, bigint>();
    m.set(p.eventId, p.position);
    byShard.set(p.shard, m);
  }
  const events = await Promise.all([...byShard].map(([shard, ids]) => fetchEvents(shard, ids)));
  return events.flat().sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : 1));
}

/** Events of one shard by id, with their merged positions. */
async function fetchEvents(shard: ShardHandle, positions: ReadonlyMap<string, bigint>): Promise<RecordedEvent[]> {
  const ids = [...positions.keys()];
  const out: RecordedEvent[] = [];
  try {
    for (let i = 0; i < ids.length; i += MAX_EVENTS_PER_APPEND) {
      for (const e of await shard.store.readEventsById(ids.slice(i, i + MAX_EVENTS_PER_APPEND))) {
        out.push({ ...e, globalPosition: positions.get(e.id)! });
      }
    }
  } catch (e) {
    throw unavailable(shard.info.id, e);
  }
  return out;
}

/** Replaces shard-local positions by merged ones (events of one shard). */
export async function withMergedPositions(shard: ShardHandle, events: RecordedEvent[]): Promise<RecordedEvent[]> {
  if (events.length === 0) return events;
  let positions: Map<string, bigint>;
  try {
    positions = await positionsOf(shard.db, events.map((e) => e.id));
  } catch (e) {
    throw unavailable(shard.info.id, e);
  }
  return events.map((e) => ({ ...e, globalPosition: positions.get(e.id) ?? e.globalPosition }));
}

/** The exclusive position bound that keeps readers below every append still in flight in this process. */
export function inflightBound(hints: Iterable<bigint>): bigint | null {
  let min: bigint | null = null;
  for (const h of hints) if (min === null || h < min) min = h;
  // An in-flight append gets a Lamport time above its hint, so every position with lamport <= hint is final.
  return min === null ? null : (min + 1n) * BigInt(POSITION_STRIDE);
}

/**
 * The cursor a subscription keeps: the loop asks for the page after its bigint position, and whatever of
 * the previous page it has delivered (positions below that) advances the per-shard components.
 */
export class SubscriptionCursor {
  readonly #cursor: VectorCursor = new Map();
  #lastPage: RecordedEvent[] = [];

  constructor(private readonly start: bigint) {}

  /** Marks delivered every event of the last page below `from`, and returns the per-shard lower bound. */
  advance(from: bigint): (index: number) => bigint {
    for (const e of this.#lastPage) {
      if (e.globalPosition >= from) break;
      this.#cursor.set(Number(e.globalPosition % BigInt(POSITION_STRIDE)), e.globalPosition);
    }
    this.#lastPage = [];
    return (index) => this.#cursor.get(index) ?? this.start - 1n;
  }

  remember(page: RecordedEvent[]): RecordedEvent[] {
    this.#lastPage = page;
    return page;
  }

  /** The per-shard positions delivered so far (shard index → last merged position). */
  snapshot(): VectorCursor {
    return new Map(this.#cursor);
  }
}
