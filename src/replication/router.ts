import { sleep } from '../support/clock.js';
import type { Membership } from './membership.js';
import type { ReplicaNode } from './node.js';
import type { ConsistencyLevel } from './options.js';

/** Where one read goes: a replica, or the primary. */
export type ReadTarget = { kind: 'primary' } | { kind: 'replica'; node: ReplicaNode };

/** A routing request: the level, and what the level needs. */
export interface RouteRequest {
  level: ConsistencyLevel;
  /** read-your-writes: the WAL position the replica must have replayed. */
  floor: bigint | null;
  maxStalenessMs: number;
  waitMs: number;
}

/** A session whose position is unknown (its last write's LSN could not be read) reads the primary. */
export const UNKNOWN_POSITION = 0xffffffffffffffffn;

const WAIT_STEP_MS = 1;

/**
 * Chooses the server for one read. Replicas are picked at random among those that qualify (`random` is
 * injectable). `read-your-writes` first uses the replay LSNs the monitor last saw (lower bounds: replay only
 * advances), then asks the healthy replicas directly until one has passed the floor or `waitMs` is spent.
 */
export async function route(m: Membership, req: RouteRequest, random: () => number, now: () => number): Promise<ReadTarget> {
  if (req.level === 'strong' || m.replicas.length === 0) return { kind: 'primary' };
  const healthy = new Set(m.statuses.filter((s) => s.healthy).map((s) => s.name));
  const byName = new Map(m.replicas.map((r) => [r.name, r]));
  const pick = (names: string[]): ReadTarget | null => {
    const node = names.length === 0 ? undefined : byName.get(names[Math.floor(random() * names.length)]!);
    return node ? { kind: 'replica', node } : null;
  };
  const floor = req.floor ?? 0n;
  // A session's floor holds at every level: its reads stay monotonic even when it asks for `eventual`.
  const atFloor = (name: string): boolean => floor === 0n || (m.replay.get(name) ?? -1n) >= floor;
  if (req.level === 'eventual') return pick(m.statuses.filter((s) => s.inRotation && atFloor(s.name)).map((s) => s.name)) ?? { kind: 'primary' };
  if (req.level === 'bounded-staleness') {
    const t = now();
    const fresh = m.statuses.filter((s) => s.inRotation && atFloor(s.name) && s.lagMs + (t - s.probedAt.getTime()) <= req.maxStalenessMs);
    return pick(fresh.map((s) => s.name)) ?? { kind: 'primary' };
  }
  if (floor === UNKNOWN_POSITION) return { kind: 'primary' };
  const passed = (): string[] => [...healthy].filter((n) => (m.replay.get(n) ?? -1n) >= floor);
  const known = pick(passed());
  if (known) return known;
  const deadline = now() + req.waitMs;
  const candidates = m.replicas.filter((r) => healthy.has(r.name));
  while (candidates.length > 0 && now() < deadline) {
    const lsns = await Promise.all(candidates.map((r) => r.replayLsn().catch(() => -1n)));
    lsns.forEach((l, i) => {
      if (l > (m.replay.get(candidates[i]!.name) ?? -1n)) m.replay.set(candidates[i]!.name, l);
    });
    const ready = pick(passed());
    if (ready) {
      m.reads.waited++;
      return ready;
    }
    await sleep(WAIT_STEP_MS);
  }
  m.reads.fellBack++;
  return { kind: 'primary' };
}
