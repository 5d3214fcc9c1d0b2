import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addIntervals, intervalStart, intervalSuffix, parseDuration, type TimeInterval } from '../../src/partitioning/intervals.js';

const interval = fc.constantFrom<TimeInterval>('hour', 'day', 'week', 'month');
const time = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2200, 0, 1) });

describe('time intervals (property)', () => {
  it('every instant lies in exactly one interval, [start, next start)', () => {
    fc.assert(
      fc.property(interval, time, (i, t) => {
        const start = intervalStart(t, i);
        expect(start).toBeLessThanOrEqual(t);
        expect(addIntervals(start, i, 1)).toBeGreaterThan(t);
        expect(intervalStart(start, i)).toBe(start);
        expect(addIntervals(addIntervals(start, i, 1), i, -1)).toBe(start);
      }),
    );
  });

  it('names sort like the intervals and differ between neighbours', () => {
    fc.assert(
      fc.property(interval, time, fc.integer({ min: 1, max: 50 }), (i, t, n) => {
        const a = intervalStart(t, i);
        const b = addIntervals(a, i, n);
        expect(intervalSuffix(a, i) < intervalSuffix(b, i)).toBe(true);
        if (i === 'week') expect(new Date(a).getUTCDay()).toBe(1);
      }),
    );
  });

  it('parses durations and refuses malformed ones', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    for (const bad of ['', '5', 'd', '1.5d', '-2d', '3y']) expect(() => parseDuration(bad)).toThrow(/duration/);
  });
});
