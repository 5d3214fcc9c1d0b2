/**
 * Sticky, balanced partition assignment: every live member computes the same result from the same view
 * (the members and who holds which partition now), so the group needs no leader. Each member keeps as many
 * of its current partitions as its quota allows; only the surplus and the orphans move. That is the least
 * movement any balanced assignment allows, which is what makes the rebalance cooperative: a member stops
 * only the partitions it gives away.
 * @module
 */

/**
 * Who should own each partition: `result[p]` is a member id.
 * Quotas are ⌊P/n⌋ or ⌈P/n⌉; the larger quotas go to the members that already hold the most (ties by id),
 * so a balanced group stays exactly as it is.
 * @example
 * ```ts
 * assignPartitions(4, ['a', 'b'], new Map([[0, 'a'], [1, 'a'], [2, 'a']])); // ['a', 'a', 'b', 'b']
 * ```
 */
export function assignPartitions(partitions: number, members: readonly string[], owners: ReadonlyMap<number, string>): string[] {
  const ids = [...new Set(members)].sort();
  if (ids.length === 0) return [];
  const live = new Set(ids);
  const held = new Map<string, number[]>(ids.map((m) => [m, []]));
  for (let p = 0; p < partitions; p++) {
    const owner = owners.get(p);
    if (owner !== undefined && live.has(owner)) held.get(owner)!.push(p);
  }
  const base = Math.floor(partitions / ids.length);
  const extra = partitions % ids.length;
  const ranked = [...ids].sort((a, b) => Math.min(held.get(b)!.length, base + 1) - Math.min(held.get(a)!.length, base + 1) || (a < b ? -1 : 1));
  const quota = new Map(ranked.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  const result: Array<string | undefined> = new Array<string | undefined>(partitions).fill(undefined);
  const count = new Map<string, number>();
  for (const m of ids) {
    // Keep the lowest-numbered ones: deterministic, whatever order the view listed them in.
    const kept = held.get(m)!.slice(0, quota.get(m));
    for (const p of kept) result[p] = m;
    count.set(m, kept.length);
  }
  let cursor = 0;
  for (let p = 0; p < partitions; p++) {
    if (result[p] !== undefined) continue;
    while (count.get(ids[cursor]!)! >= quota.get(ids[cursor]!)!) cursor++;
    const m = ids[cursor]!;
    result[p] = m;
    count.set(m, count.get(m)! + 1);
  }
  return result as string[];
}

/**
 * The partitions `member` owns in an assignment, ascending.
 * @example
 * ```ts
 * partitionsOf(['a', 'b', 'a'], 'a'); // [0, 2]
 * ```
 */
export function partitionsOf(assignment: readonly string[], member: string): number[] {
  const out: number[] = [];
  assignment.forEach((m, p) => {
    if (m === member) out.push(p);
  });
  return out;
}
