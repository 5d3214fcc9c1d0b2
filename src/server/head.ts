import type { EventStore } from '../index.js';

/**
 * The global position of the newest event (0n for an empty log), found with a few one-event reads through
 * `readAll` (exponential probe, then bisection), so it works on every engine whatever the position gaps.
 *
 * @example
 * ```ts
 * const sub = store.subscribeToAll({ fromPosition: (await logHead(store)) + 1n, handler });
 * ```
 */
export async function logHead(store: EventStore): Promise<bigint> {
  const at = async (p: bigint): Promise<bigint | null> => (await store.readAll({ fromPosition: p, maxCount: 1 }))[0]?.globalPosition ?? null;
  let found = await at(1n);
  if (found === null) return 0n;
  let step = 1n;
  let miss = found + step;
  for (let next = await at(miss); next !== null; next = await at(miss)) {
    found = next;
    step *= 2n;
    miss = found + step;
  }
  while (miss - found > 1n) {
    const mid = found + (miss - found) / 2n;
    const next = await at(mid);
    if (next === null || next >= miss) miss = mid;
    else found = next;
  }
  return found;
}
