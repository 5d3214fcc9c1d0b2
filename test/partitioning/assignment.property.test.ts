import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignPartitions } from '../../src/partitioning/assignment.js';

const memberIds = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1, maxLength: 9 });
const partitionCount = fc.integer({ min: 1, max: 64 });

function counts(assignment: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of assignment) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
}

/** A balanced starting point: the assignment a group with these members settles on from nothing. */
function settled(p: number, members: string[]): string[] {
  return assignPartitions(p, members, new Map());
}

function owners(assignment: string[]): Map<number, string> {
  return new Map(assignment.map((m, p) => [p, m]));
}

describe('partition assignment (property)', () => {
  it('is deterministic: the same view in any order gives the same assignment', () => {
    fc.assert(
      fc.property(partitionCount, memberIds, fc.array(fc.integer({ min: 0, max: 8 })), (p, members, ownerPicks) => {
        const view = new Map<number, string>();
        ownerPicks.slice(0, p).forEach((pick, i) => view.set(i, members[pick % members.length]!));
        const a = assignPartitions(p, members, view);
        const b = assignPartitions(p, [...members].reverse(), new Map([...view].reverse()));
        expect(b).toEqual(a);
      }),
    );
  });

  it('is balanced: every partition has a live owner and shares differ by at most one', () => {
    fc.assert(
      fc.property(partitionCount, memberIds, fc.array(fc.stringMatching(/^[a-z]{1,6}$/)), (p, members, stale) => {
        const view = new Map(stale.slice(0, p).map((m, i) => [i, m]));
        const a = assignPartitions(p, members, view);
        expect(a).toHaveLength(p);
        for (const m of a) expect(members).toContain(m);
        const shares = members.map((m) => counts(a).get(m) ?? 0);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('a joining member takes only the surplus; nobody else loses or swaps a partition', () => {
    fc.assert(
      fc.property(partitionCount, memberIds, fc.stringMatching(/^[A-Z]{1,4}$/), (p, members, joiner) => {
        const before = settled(p, members);
        const after = assignPartitions(p, [...members, joiner], owners(before));
        const moved = after.filter((m, i) => m !== before[i]);
        // Every moved partition goes to the joiner, and exactly as many as its fair share.
        expect(new Set(moved)).toEqual(moved.length === 0 ? new Set() : new Set([joiner]));
        expect(moved.length).toBe(Math.floor(p / (members.length + 1)));
      }),
    );
  });

  it('a leaving member gives up only its own partitions', () => {
    fc.assert(
      fc.property(partitionCount, memberIds.filter((m) => m.length >= 2), fc.nat(), (p, members, pick) => {
        const before = settled(p, members);
        const gone = members[pick % members.length]!;
        const after = assignPartitions(p, members.filter((m) => m !== gone), owners(before));
        after.forEach((m, i) => {
          if (before[i] !== gone) expect(m).toBe(before[i]);
        });
        expect(after).not.toContain(gone);
      }),
    );
  });

  it('moves the least any balanced assignment could: Σ min(held, quota) partitions stay', () => {
    fc.assert(
      fc.property(partitionCount, memberIds, fc.array(fc.nat()), (p, members, picks) => {
        const view = new Map(picks.slice(0, p).map((pick, i) => [i, members[pick % members.length]!]));
        const after = assignPartitions(p, members, view);
        const kept = after.filter((m, i) => view.get(i) === m).length;
        const held = members.map((m) => [...view.values()].filter((v) => v === m).length).sort((a, b) => b - a);
        const base = Math.floor(p / members.length);
        const best = held.reduce((sum, h, i) => sum + Math.min(h, base + (i < p % members.length ? 1 : 0)), 0);
        expect(kept).toBe(best);
      }),
    );
  });
});
