import type { EventStore } from '../eventstore/types.js';

/**
 * The global position of the last readable event at or after `from - 1n`, found with a few indexed
 * one-event reads (exponential probe, then binary search) through the public `readAll`, so it works on
 * every adapter and is gap-safe wherever `readAll` is. Returns `from - 1n` when nothing is at or after `from`.
 */
export async function headPosition(store: EventStore, from = 1n): Promise<bigint> {
  const firstAtOrAfter = async (p: bigint): Promise<bigint | null> =>
    (await store.readAll({ fromPosition: p, maxCount: 1 }))[0]?.globalPosition ?? null;
  const start = from < 1n ? 1n : from;
  const first = await firstAtOrAfter(start);
  if (first === null) return start - 1n;
  let lo = first; // an event exists at lo
  let hi: bigint; // no event at or after hi
  for (let step = 1n; ; step *= 2n) {
    const found = await firstAtOrAfter(lo + step);
    if (found === null) {
      hi = lo + step;
      break;
    }
    lo = found;
  }
  while (hi - lo > 1n) {
    const mid: bigint = lo + (hi - lo) / 2n;
    const found = await firstAtOrAfter(mid);
    if (found === null || found >= hi) hi = mid;
    else lo = found;
  }
  return lo;
}
